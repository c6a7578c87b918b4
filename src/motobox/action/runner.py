"""Run a composite GitHub Action from a local folder the way the GitHub runner does.

    action.yml -> load_action (checked) -> resolve_inputs (defaults, required, unknown)
               -> ActionRun: for each step, ``if:`` evaluated (``expressions``), then
                  ``steps.run_step`` or ``steps.uses_step``; its file commands (``files``)
                  and workflow commands (``commands``) taken into the run; the ``github``
                  and ``runner`` facts from one table (``facts``)
               -> ActionResult: exit code, outputs, annotations, summary, artifacts, masks

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
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from motobox.action.commands import Annotation, Command, CommandLog
from motobox.action.expressions import ExpressionError, condition, interpolate
from motobox.action.facts import RunnerFacts
from motobox.action.files import FileCommandError, Written
from motobox.action.steps import run_step, uses_step
from motobox.errors import UsageError
from motobox.journal import Journal


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
        self.sealed = sealed  # a sandbox.seal.Seal: every step runs in its namespace
        self.action = action
        self.inputs = dict(inputs)
        #: The run's facts (``github``/``runner`` contexts, GITHUB_*/RUNNER_* variables);
        #: ``temp`` is set when the run starts.
        self.facts = RunnerFacts(action_dir, workspace, tool_cache, Path(), debug)
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
            "github": self.facts.github(),
            "runner": self.facts.runner(),
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
            self.facts.temp = Path(temp)
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
            code = run_step(self, step, where) if "run" in step else uses_step(self, step, where)
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

    def step_env(self, step: Mapping[str, Any], where: str) -> dict[str, str]:
        """A step's environment: the runner's, the facts, what earlier steps added, its own."""
        env = dict(self.base_env)
        env.update(self.facts.env())
        env.update(self.env_added)
        if self.path_added:
            env["PATH"] = os.pathsep.join([*reversed(self.path_added), env.get("PATH", "")])
        for key, value in (step.get("env") or {}).items():
            try:
                env[str(key)] = self.expand(value)
            except ExpressionError as exc:
                raise UsageError(f"env.{key}: {exc}", where=where) from None
        return env

    def apply(self, written: Written) -> None:
        """What a step wrote to its file commands (``files``), taken into the run."""
        assert self._current
        self._current.outputs.update(written.outputs)
        self.env_added.update(written.env)
        self.state.update(written.state)
        for line in written.path:
            if line in self.path_added:
                self.path_added.remove(line)
            self.path_added.append(line)
        if written.summary_too_large:
            self.log.run(
                Command(
                    "warning",
                    {},
                    "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of "
                    f"1024k, got {len(written.summary) // 1024}k.",
                )
            )
        elif written.summary:
            self.summary += self.log.masker.hide(written.summary.decode("utf-8", "replace"))

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

    def outputs(self) -> dict[str, str]:
        values = {}
        for name, spec in (self.action.get("outputs") or {}).items():
            value = (spec or {}).get("value", "")
            try:
                values[name] = self.log.masker.hide(self.expand(value))
            except ExpressionError as exc:
                raise UsageError(f"outputs.{name}.value: {exc}") from None
        return values


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
