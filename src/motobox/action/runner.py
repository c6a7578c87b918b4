"""Run a composite GitHub Action from a local folder the way the GitHub runner does.

What the runner does and this module does too (``actions/runner``, docs/ARCHITECTURE.md):

- inputs reach composite steps only through ``${{ inputs.* }}``; no ``INPUT_*`` variable is set
  for them (and any the parent has are removed), so a missing ``env:`` mapping fails here as it
  fails on GitHub;
- defaults from ``action.yml``; an unknown or a missing required input is a usage error;
- ``run:`` steps with ``shell`` (``bash --noprofile --norc -eo pipefail {0}``, ``sh -e {0}``,
  ``python {0}`` or a template with ``{0}``), ``env``, ``if``, ``id``, ``working-directory``,
  ``continue-on-error``; ``success()`` means no earlier step failed;
- the files ``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_PATH``, ``GITHUB_STEP_SUMMARY`` (1 MiB
  at most per step) and ``GITHUB_STATE``, fresh for each step, read after it;
- workflow commands in the output (``commands.py``), masked values hidden in all that is shown;
- ``uses: actions/upload-artifact`` carried out by copying into
  ``WORKSPACE/.motobox-artifacts/NAME``; other ``uses:`` steps are recorded, not run.
"""

from __future__ import annotations

import contextlib
import difflib
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from motobox.action.commands import Annotation, Command, CommandLog
from motobox.action.expressions import ExpressionError, condition, interpolate
from motobox.errors import UsageError
from motobox.journal import Journal

SUMMARY_LIMIT = 1024 * 1024
ARTIFACTS_DIR = ".motobox-artifacts"
SHELLS = {
    "bash": ("bash --noprofile --norc -eo pipefail {0}", ".sh"),
    "sh": ("sh -e {0}", ".sh"),
    "python": ("python {0}", ".py"),
}


@dataclass
class StepResult:
    name: str
    id: str | None
    outcome: str  # success failure skipped
    conclusion: str
    exit_code: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    uses: str | None = None


@dataclass
class ActionResult:
    """What a run of the action answered: the same as the printed report."""

    exit_code: int
    outputs: dict[str, str]
    annotations: list[Annotation]
    summary: str
    artifacts: dict[str, Path]
    steps: list[StepResult]
    masked: int
    log: list[str]
    workspace: Path
    state: dict[str, str] = field(default_factory=dict)
    journal: Journal | None = None
    #: With a scenario that has ``expect:``, the expectation report (the Action is the program).
    expectations: Any = None

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    @property
    def output(self) -> str:
        """Everything the action printed, masked, one string."""
        return "\n".join(self.log)

    def errors(self) -> list[Annotation]:
        return [a for a in self.annotations if a.level == "error"]

    def report(self) -> str:
        lines = [f"exit code    {self.exit_code}"]
        if self.outputs:
            lines.append("outputs")
            lines += [f"  {k} = {v}" for k, v in self.outputs.items()]
        else:
            lines.append("outputs      (none)")
        lines.append(f"annotations  {len(self.annotations)}")
        lines += [f"  {a.render()}" for a in self.annotations]
        if self.artifacts:
            lines.append("artifacts")
            for name, path in self.artifacts.items():
                count = sum(1 for p in path.rglob("*") if p.is_file())
                lines.append(f"  {name}: {count} files in {_rel(path, self.workspace)}")
        else:
            lines.append("artifacts    (none)")
        lines.append(f"masked       {self.masked} value{'s' if self.masked != 1 else ''}")
        steps = ", ".join(f"{s.name}: {s.outcome}" for s in self.steps)
        lines.append(f"steps        {steps}")
        if self.summary.strip():
            lines.append("summary")
            lines += [f"  {line}" for line in self.summary.rstrip().splitlines()]
        return "\n".join(lines)


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


# -- action.yml -------------------------------------------------------------------------------
def load_action(path: Path) -> tuple[Path, dict[str, Any]]:
    """The action's folder and its parsed ``action.yml``, checked for what this runner needs."""
    folder = path if path.is_dir() else path.parent
    file = path if path.is_file() else None
    if file is None:
        file = next(
            (folder / n for n in ("action.yml", "action.yaml") if (folder / n).exists()), None
        )
    if file is None:
        raise UsageError(f"{folder}: no action.yml here; give the folder that holds the action")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise UsageError(f"{problem}; fix the YAML", where=where) from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), dict):
        raise UsageError("an action needs a `runs:` mapping", where=str(file))
    using = data["runs"].get("using")
    if using != "composite":
        raise UsageError(
            f"runs.using is {using!r}; motobox runs composite actions only "
            "(JavaScript and Docker actions need the GitHub runner)",
            where=str(file),
        )
    steps = data["runs"].get("steps")
    if not isinstance(steps, list) or not steps:
        raise UsageError("runs.steps must be a list of steps", where=str(file))
    for n, step in enumerate(steps, 1):
        where = f"{file}: runs.steps[{n}]"
        if not isinstance(step, dict) or ("run" in step) == ("uses" in step):
            raise UsageError("each step needs exactly one of `run:` or `uses:`", where=where)
        if "run" in step and not step.get("shell"):
            raise UsageError(
                "a composite `run:` step needs `shell:` (e.g. shell: bash), as on GitHub",
                where=where,
            )
    return folder, data


def resolve_inputs(
    action: Mapping[str, Any], given: Mapping[str, str], where: str
) -> dict[str, str]:
    declared: dict[str, Any] = action.get("inputs") or {}
    names = {n.lower(): n for n in declared}
    values: dict[str, str] = {}
    for name, value in given.items():
        if name.lower() not in names:
            close = difflib.get_close_matches(name.lower(), list(names), n=1)
            hint = f"; did you mean {names[close[0]]!r}?" if close else ""
            known = ", ".join(declared) or "none"
            raise UsageError(f"unknown input {name!r} (inputs: {known}){hint}", where=where)
        values[names[name.lower()]] = value
    for name, spec in declared.items():
        spec = spec or {}
        if name in values:
            continue
        if "default" in spec:
            values[name] = "" if spec["default"] is None else _scalar(spec["default"])
        elif spec.get("required"):
            raise UsageError(f"input {name!r} is required; pass --input {name}=VALUE", where=where)
        else:
            values[name] = ""
    return values


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- file commands ----------------------------------------------------------------------------
class FileCommandError(Exception):
    pass


def parse_file_command(text: str, variable: str) -> dict[str, str]:
    """``NAME=value`` lines and ``NAME<<DELIMITER`` ... ``DELIMITER`` blocks."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        if not line:
            continue
        heredoc = line.find("<<")
        equals = line.find("=")
        if heredoc > 0 and (equals < 0 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            body: list[str] = []
            while i < len(lines) and lines[i].rstrip("\r") != delimiter:
                body.append(lines[i].rstrip("\r"))
                i += 1
            if i >= len(lines):
                raise FileCommandError(
                    f"Invalid value in {variable}. Matching delimiter not found '{delimiter}'"
                )
            i += 1
            values[name] = "\n".join(body)
        elif equals > 0:
            values[line[:equals]] = line[equals + 1 :]
        else:
            raise FileCommandError(f"Invalid format '{line}' in {variable}")
    return values


# -- the run ----------------------------------------------------------------------------------
Echo = Callable[[str], None]


class ActionRun:
    def __init__(
        self,
        action_dir: Path,
        action: Mapping[str, Any],
        inputs: Mapping[str, str],
        *,
        workspace: Path,
        tool_cache: Path,
        base_env: Mapping[str, str],
        echo: Echo | None,
        debug: bool = False,
        sealed: Any = None,
    ) -> None:
        self.sealed = sealed  # a motobox.seal.Seal: every step runs in its namespace
        self.action_dir = action_dir
        self.action = action
        self.inputs = dict(inputs)
        self.workspace = workspace
        self.tool_cache = tool_cache
        self.log = CommandLog(echo=echo, debug=debug)
        self.log.on_legacy = self._legacy_command
        self.env_added: dict[str, str] = {}
        self.path_added: list[str] = []
        self.steps: list[StepResult] = []
        self.step_contexts: dict[str, dict[str, Any]] = {}
        self.summary = ""
        self.state: dict[str, str] = {}
        self.artifacts: dict[str, Path] = {}
        self.failed = False
        self.exit_code = 0
        self._current: StepResult | None = None
        self.base_env = {
            k: v
            for k, v in base_env.items()
            if not k.startswith(("INPUT_", "GITHUB_", "RUNNER_", "STATE_"))
        }

    # expressions
    def contexts(self) -> dict[str, Any]:
        return {
            "inputs": dict(self.inputs),
            "steps": self.step_contexts,
            "env": {**self.base_env, **self.env_added},
            "github": {
                "action_path": str(self.action_dir),
                "workspace": str(self.workspace),
                "event_name": "workflow_dispatch",
                "repository": "local/" + self.workspace.name,
                "ref": "refs/heads/main",
                "sha": "0" * 40,
                "run_id": "1",
                "run_number": "1",
                "actor": "motobox",
                "server_url": "https://github.com",
                "action": "__local",
                "event": {},
            },
            "runner": {
                "os": "Linux",
                "arch": "X64",
                "name": "motobox",
                "temp": str(self.temp),
                "tool_cache": str(self.tool_cache),
                "debug": "1" if self.log.debug else "",
            },
            "job": {"status": "failure" if self.failed else "success"},
        }

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {
            "success": lambda: not self.failed,
            "failure": lambda: self.failed,
            "always": lambda: True,
            "cancelled": lambda: False,
        }

    def expand(self, value: Any) -> str:
        return interpolate(_scalar(value), self.contexts(), self.functions())

    # the run
    def run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="motobox-runner-") as temp:
            self.temp = Path(temp)
            for n, step in enumerate(self.action["runs"]["steps"], 1):
                self.step(n, step)

    def step(self, n: int, step: Mapping[str, Any]) -> None:
        where = f"runs.steps[{n}]"
        try:
            name = self.expand(step.get("name") or "")
        except ExpressionError as exc:
            raise UsageError(f"{exc}", where=f"{where}.name") from None
        if not name:
            name = (
                f"Run {str(step['run']).strip().splitlines()[0]}"
                if "run" in step
                else (f"Run {step['uses']}")
            )
        result = StepResult(name=name, id=step.get("id"), outcome="skipped", conclusion="skipped")
        result.uses = step.get("uses")
        self.steps.append(result)
        try:
            run_it = condition(_scalar(step.get("if", "")), self.contexts(), self.functions())
        except ExpressionError as exc:
            raise UsageError(f"if: {exc}", where=where) from None
        if not run_it:
            self.log.emit(f"◦ {name} (skipped: if: {step.get('if', 'success()')})")
            self._record(result)
            return
        self.log.emit(f"▶ {name}")
        self.log.step = name
        self._current = result
        try:
            code = self.run_step(step, where) if "run" in step else self.uses_step(step, where)
        except FileCommandError as exc:
            self.log.run(Command("error", {}, str(exc)))
            code = 1
        finally:
            self._current = None
        result.exit_code = code
        result.outcome = "success" if code == 0 else "failure"
        continue_on_error = self.expand(step.get("continue-on-error", False)).strip() == "true"
        result.conclusion = "success" if code == 0 or continue_on_error else "failure"
        if result.conclusion == "failure":
            self.log.emit(f"✗ {name} failed with exit code {code}")
            if not self.failed:
                self.failed, self.exit_code = True, code
        self._record(result)

    def _record(self, result: StepResult) -> None:
        if result.id:
            self.step_contexts[result.id] = {
                "outputs": dict(result.outputs),
                "outcome": result.outcome,
                "conclusion": result.conclusion,
            }

    def _step_env(self, step: Mapping[str, Any], where: str) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_ACTION_PATH=str(self.action_dir),
            GITHUB_ACTION="__local",
            GITHUB_REPOSITORY="local/" + self.workspace.name,
            GITHUB_EVENT_NAME="workflow_dispatch",
            GITHUB_SHA="0" * 40,
            GITHUB_REF="refs/heads/main",
            GITHUB_RUN_ID="1",
            GITHUB_RUN_NUMBER="1",
            GITHUB_SERVER_URL="https://github.com",
            RUNNER_OS="Linux",
            RUNNER_ARCH="X64",
            RUNNER_NAME="motobox",
            RUNNER_TEMP=str(self.temp),
            RUNNER_TOOL_CACHE=str(self.tool_cache),
        )
        env.update(self.env_added)
        if self.path_added:
            env["PATH"] = os.pathsep.join([*reversed(self.path_added), env.get("PATH", "")])
        for key, value in (step.get("env") or {}).items():
            try:
                env[str(key)] = self.expand(value)
            except ExpressionError as exc:
                raise UsageError(f"env.{key}: {exc}", where=where) from None
        return env

    def run_step(self, step: Mapping[str, Any], where: str) -> int:
        try:
            script = self.expand(step["run"])
        except ExpressionError as exc:
            raise UsageError(f"run: {exc}", where=where) from None
        shell = self.expand(step["shell"]).strip()
        template, suffix = SHELLS.get(shell, (shell, ""))
        if "{0}" not in template:
            raise UsageError(
                f"shell {shell!r} is not one of {', '.join(SHELLS)} and has no {{0}} for the "
                "script file",
                where=where,
            )
        script_file = self.temp / f"{uuid.uuid4()}{suffix}"
        script_file.write_text(script, encoding="utf-8")
        argv = [part.replace("{0}", str(script_file)) for part in shlex.split(template)]
        env = self._step_env(step, where)
        files = {
            name: self.temp / f"{name.lower()}_{uuid.uuid4()}"
            for name in (
                "GITHUB_OUTPUT",
                "GITHUB_ENV",
                "GITHUB_PATH",
                "GITHUB_STEP_SUMMARY",
                "GITHUB_STATE",
            )
        }
        for name, path in files.items():
            path.touch()
            env[name] = str(path)
        event = self.temp / "event.json"
        event.write_text("{}")
        env["GITHUB_EVENT_PATH"] = str(event)
        cwd = self.workspace
        if step.get("working-directory"):
            cwd = self.workspace / self.expand(step["working-directory"])
        if not cwd.is_dir():
            self.log.run(Command("error", {}, f"working-directory {cwd} does not exist"))
            return 1
        code = self._spawn(argv, env, cwd)
        self._read_files(files)
        return code

    def _spawn(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> int:
        from motobox.sandbox.process import supervised

        try:
            proc = supervised(
                list(argv),
                env,
                seal=self.sealed,  # in a sealed run, the step joins its namespace
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except FileNotFoundError:
            self.log.run(Command("error", {}, f"{argv[0]}: command not found"))
            return 127
        assert proc.stdout
        try:
            for raw in iter(proc.stdout.readline, b""):
                self.log.feed(raw.decode("utf-8", "replace").rstrip("\r\n"))
            return _exit_code(proc.wait())
        except BaseException:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            raise

    def _read_files(self, files: Mapping[str, Path]) -> None:
        assert self._current
        outputs = parse_file_command(files["GITHUB_OUTPUT"].read_text("utf-8"), "GITHUB_OUTPUT")
        self._current.outputs.update(outputs)
        self.env_added.update(
            parse_file_command(files["GITHUB_ENV"].read_text("utf-8"), "GITHUB_ENV")
        )
        self.state.update(
            parse_file_command(files["GITHUB_STATE"].read_text("utf-8"), "GITHUB_STATE")
        )
        for line in files["GITHUB_PATH"].read_text("utf-8").splitlines():
            if line.strip():
                if line in self.path_added:
                    self.path_added.remove(line)
                self.path_added.append(line)
        summary = files["GITHUB_STEP_SUMMARY"].read_bytes()
        if len(summary) > SUMMARY_LIMIT:
            self.log.run(
                Command(
                    "warning",
                    {},
                    "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of "
                    f"1024k, got {len(summary) // 1024}k.",
                )
            )
        elif summary:
            self.summary += self.log.masker.hide(summary.decode("utf-8", "replace"))

    def _legacy_command(self, cmd: Command) -> None:
        if cmd.name == "set-output" and self._current and cmd.properties.get("name"):
            self._current.outputs[cmd.properties["name"]] = cmd.data
        elif cmd.name == "save-state" and cmd.properties.get("name"):
            self.state[cmd.properties["name"]] = cmd.data
        elif cmd.name in ("set-env", "add-path"):
            self.log.run(
                Command(
                    "error",
                    {},
                    f"The `{cmd.name}` command is disabled. Please upgrade to using Environment "
                    "Files or opt into unsecure command execution by setting the "
                    "`ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`.",
                )
            )

    def uses_step(self, step: Mapping[str, Any], where: str) -> int:
        uses = str(step["uses"])
        with_ = {str(k): self.expand(v) for k, v in (step.get("with") or {}).items()}
        if re.match(r"actions/upload-artifact@", uses):
            return self.upload_artifact(with_)
        self.log.emit(f"motobox: `uses: {uses}` is recorded, not run (only upload-artifact is)")
        return 0

    def upload_artifact(self, with_: Mapping[str, str]) -> int:
        name = with_.get("name") or "artifact"
        patterns = [p.strip() for p in with_.get("path", "").splitlines() if p.strip()]
        found: list[Path] = []
        for pattern in patterns:
            if pattern.startswith("!"):
                continue
            full = pattern if os.path.isabs(pattern) else str(self.workspace / pattern)
            found += [Path(p) for p in glob.glob(full, recursive=True)]
        target = self.workspace / ARTIFACTS_DIR / name
        if not found:
            level = with_.get("if-no-files-found", "warn")
            message = (
                f"No files were found with the provided path: {' '.join(patterns)}. "
                "No artifacts will be uploaded."
            )
            if level == "error":
                self.log.run(Command("error", {}, message))
                return 1
            if level == "warn":
                self.log.run(Command("warning", {}, message))
            return 0
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for src in found:
            if src.is_dir():
                shutil.copytree(src, target, dirs_exist_ok=True)
            else:
                shutil.copy2(src, target / src.name)
        files = sum(1 for p in target.rglob("*") if p.is_file())
        self.log.emit(f"Artifact {name} has been successfully uploaded: {files} files")
        self.artifacts[name] = target
        return 0

    def outputs(self) -> dict[str, str]:
        values = {}
        for name, spec in (self.action.get("outputs") or {}).items():
            value = (spec or {}).get("value", "")
            try:
                values[name] = self.log.masker.hide(self.expand(value))
            except ExpressionError as exc:
                raise UsageError(f"outputs.{name}.value: {exc}") from None
        return values


def _exit_code(status: int) -> int:
    return 128 - status if status < 0 else status


def default_tool_cache() -> Path:
    from motobox.usercache import cache_dir

    return cache_dir() / "toolcache"


def run_action(
    path: str | Path = ".",
    inputs: Mapping[str, str] | None = None,
    *,
    workspace: str | Path | None = None,
    tool_cache: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    echo: Echo | None = None,
    debug: bool = False,
    cloud: bool | str = False,
    scenarios: Sequence[str | Path] = (),
    account: str | None = None,
    journal: str | Path | None = None,
    region: str = "us-east-1",
    seal: bool = False,
) -> ActionResult:
    """Run the composite action at ``path`` with ``inputs``; ``env`` is the environment the
    runner itself would have (default: this process's).

    With ``cloud`` (implied by ``scenarios``, ``account``, ``journal`` or ``seal``) the whole
    action runs inside motobox: every step gets the cloud's environment (a new embedded
    cloud, or the running one whose URL ``cloud`` is), and the result's ``journal`` holds the
    calls. With ``seal`` every step runs in the sealed network
    namespace (``motobox.sandbox.seal``)."""
    action_dir, action = load_action(Path(path).resolve())
    values = resolve_inputs(action, inputs or {}, str(action_dir / "action.yml"))
    ws = Path(workspace or Path.cwd()).resolve()
    if not ws.is_dir():
        raise UsageError(f"--workspace {ws} is not a folder")
    cache = Path(tool_cache) if tool_cache else default_tool_cache()
    cache = cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    parent = dict(os.environ if env is None else env)
    with contextlib.ExitStack() as stack:
        box = None
        if cloud or scenarios or account or journal or seal:
            from motobox.cloud import DEFAULT_ACCOUNT, Cloud

            options: dict[str, Any] = dict(
                scenarios=scenarios,
                account=account or DEFAULT_ACCOUNT,
                journal=journal,
                region=region,
                seal=seal,
            )
            if isinstance(cloud, str) and cloud.startswith(("http://", "https://")):
                from motobox.attach import AttachedCloud

                box = stack.enter_context(AttachedCloud(cloud, **options))
            else:
                box = stack.enter_context(Cloud(**options))
            parent = box.env(parent)
        run = ActionRun(
            action_dir,
            action,
            values,
            workspace=ws,
            tool_cache=cache,
            base_env=parent,
            echo=echo,
            debug=debug,
            sealed=box.sealed if box else None,
        )
        run.run()
        expectations = box.check(run.exit_code, "\n".join(run.log.lines), "") if box else None
        return ActionResult(
            expectations=expectations,
            exit_code=run.exit_code,
            outputs=run.outputs(),
            annotations=run.log.annotations,
            summary=run.summary,
            artifacts=run.artifacts,
            steps=run.steps,
            masked=len(run.log.masker),
            log=run.log.lines,
            workspace=ws,
            state=run.state,
            journal=box.journal if box else None,
        )
