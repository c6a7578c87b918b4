"""The two kinds of composite step, as the GitHub runner runs them.

    run:   the script expanded (``${{ }}``), written to a file, started with its ``shell``
           (``bash --noprofile --norc -eo pipefail {0}``, ``sh -e {0}``, ``python {0}``, or a
           template with ``{0}``) in ``working-directory``, under motobox's supervisor
           (``sandbox.process.supervised``: inside the sealed namespace of a sealed run), its
           output read line by line for workflow commands, then its file commands
    uses:  ``actions/upload-artifact`` carried out (a copy into
           ``WORKSPACE/.motobox-artifacts/NAME``); any other action recorded, not run

Both take the ``ActionRun`` they belong to: its expressions, log, environment and facts.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motobox.action.commands import Command
from motobox.action.expressions import ExpressionError
from motobox.action.files import StepFiles
from motobox.errors import UsageError

if TYPE_CHECKING:
    from motobox.action.runner import ActionRun

ARTIFACTS_DIR = ".motobox-artifacts"
SHELLS = {
    "bash": ("bash --noprofile --norc -eo pipefail {0}", ".sh"),
    "sh": ("sh -e {0}", ".sh"),
    "python": ("python {0}", ".py"),
}


def run_step(run: ActionRun, step: Mapping[str, Any], where: str) -> int:
    try:
        script = run.expand(step["run"])
    except ExpressionError as exc:
        raise UsageError(f"run: {exc}", where=where) from None
    shell = run.expand(step["shell"]).strip()
    template, suffix = SHELLS.get(shell, (shell, ""))
    if "{0}" not in template:
        raise UsageError(
            f"shell {shell!r} is not one of {', '.join(SHELLS)} and has no {{0}} for the "
            "script file",
            where=where,
        )
    temp = run.facts.temp
    script_file = temp / f"{uuid.uuid4()}{suffix}"
    script_file.write_text(script, encoding="utf-8")
    argv = [part.replace("{0}", str(script_file)) for part in shlex.split(template)]
    env = run.step_env(step, where)
    files = StepFiles.make(temp)
    env.update(files.env())
    event = temp / "event.json"
    event.write_text("{}")
    env["GITHUB_EVENT_PATH"] = str(event)
    cwd = run.facts.workspace
    if step.get("working-directory"):
        cwd = cwd / run.expand(step["working-directory"])
    if not cwd.is_dir():
        run.log.run(Command("error", {}, f"working-directory {cwd} does not exist"))
        return 1
    code = _spawn(run, argv, env, cwd)
    run.apply(files.read())
    return code


def _spawn(run: ActionRun, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> int:
    from motobox.sandbox.process import supervised

    try:
        proc = supervised(
            list(argv),
            env,
            seal=run.sealed,  # in a sealed run, the step joins its namespace
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except FileNotFoundError:
        run.log.run(Command("error", {}, f"{argv[0]}: command not found"))
        return 127
    assert proc.stdout
    try:
        for raw in iter(proc.stdout.readline, b""):
            run.log.feed(raw.decode("utf-8", "replace").rstrip("\r\n"))
        status = proc.wait()
        return 128 - status if status < 0 else status
    except BaseException:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        raise


def uses_step(run: ActionRun, step: Mapping[str, Any], where: str) -> int:
    uses = str(step["uses"])
    with_ = {str(k): run.expand(v) for k, v in (step.get("with") or {}).items()}
    if re.match(r"actions/upload-artifact@", uses):
        return upload_artifact(run, with_)
    run.log.emit(f"motobox: `uses: {uses}` is recorded, not run (only upload-artifact is)")
    return 0


def upload_artifact(run: ActionRun, with_: Mapping[str, str]) -> int:
    workspace = run.facts.workspace
    name = with_.get("name") or "artifact"
    patterns = [p.strip() for p in with_.get("path", "").splitlines() if p.strip()]
    found: list[Path] = []
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        full = pattern if os.path.isabs(pattern) else str(workspace / pattern)
        found += [Path(p) for p in glob.glob(full, recursive=True)]
    target = workspace / ARTIFACTS_DIR / name
    if not found:
        level = with_.get("if-no-files-found", "warn")
        message = (
            f"No files were found with the provided path: {' '.join(patterns)}. "
            "No artifacts will be uploaded."
        )
        if level == "error":
            run.log.run(Command("error", {}, message))
            return 1
        if level == "warn":
            run.log.run(Command("warning", {}, message))
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
    run.log.emit(f"Artifact {name} has been successfully uploaded: {files} files")
    run.artifacts[name] = target
    return 0
