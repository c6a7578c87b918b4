"""taskcat in its own virtualenv under the runner's tool cache, reused between runs.

``$RUNNER_TOOL_CACHE/taskcat/<version>/`` holds a virtualenv with taskcat (taskcat pins
``jsonschema<4`` and ``urllib3<2``, so it cannot share one with anything else). A stamp file
marks a finished install, so an interrupted one is redone. ``update_taskcat`` and
``update_cfn_lint`` upgrade the packages in place first. pip's own variables
(``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, ``PIP_INDEX_URL``) pass through, so an install can come
from a local wheelhouse.

``motobox`` for ``mock: true`` gets a virtualenv of its own the same way
(``$RUNNER_TOOL_CACHE/motobox/<version>/``), installed from the Action's folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

Log = Callable[[str], None]
STAMP = ".taskcat-action-complete"


def _log(message: str) -> None:
    print(message, flush=True)


def _bin(venv: Path, name: str) -> Path:
    return venv / "bin" / name


def _pip(venv: Path, args: Sequence[str], log: Log) -> None:
    """Runs pip in ``venv``, showing its progress a line at a time."""
    cmd = [str(_bin(venv, "python")), "-m", "pip", "--disable-pip-version-check", *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert proc.stdout
    for line in proc.stdout:
        line = line.rstrip()
        if line and not line.startswith("WARNING: Location"):
            log(f"  pip: {line}")
    if proc.wait() != 0:
        raise RuntimeError(f"pip {' '.join(args)} failed with exit code {proc.returncode}")


def _create(venv: Path, python: str, log: Log) -> None:
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log(f"Creating a virtualenv in {venv}")
    subprocess.run([python, "-m", "venv", str(venv)], check=True)


def taskcat_venv(tool_cache: Path, version: str) -> Path:
    return tool_cache / "taskcat" / version


def ensure_taskcat(
    tool_cache: Path,
    version: str,
    *,
    update_taskcat: bool = False,
    update_cfn_lint: bool = False,
    python: str = sys.executable,
    log: Log = _log,
) -> Path:
    """The path of a working ``taskcat`` executable of ``version`` (installed if needed)."""
    venv = taskcat_venv(tool_cache, version)
    started = time.monotonic()
    if not (venv / STAMP).exists():
        log(f"Installing taskcat {version} into {venv} (first run; later runs reuse it)")
        _create(venv, python, log)
        _pip(venv, ["install", "--progress-bar", "off", f"taskcat=={version}"], log)
        (venv / STAMP).write_text(version)
        log(f"Installed taskcat {version} in {time.monotonic() - started:.1f} s")
    else:
        log(f"Using taskcat {version} from {venv}")
    upgrades = [
        name for name, on in (("taskcat", update_taskcat), ("cfn-lint", update_cfn_lint)) if on
    ]
    if upgrades:
        log(f"Upgrading {', '.join(upgrades)}")
        _pip(venv, ["install", "--progress-bar", "off", "--upgrade", *upgrades], log)
    return _bin(venv, "taskcat")


def motobox_venv(tool_cache: Path, version: str) -> Path:
    return tool_cache / "motobox" / version


def _dependencies_stamp(pyproject: Path) -> str:
    """What decides the install: motobox's declared dependencies (not the rest of the file)."""
    import json
    import tomllib

    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    wanted = json.dumps([project.get("dependencies", []), project.get("scripts", {})])
    return hashlib.sha256(wanted.encode()).hexdigest()


def ensure_motobox(
    tool_cache: Path, source: Path, version: str, *, python: str = sys.executable, log: Log = _log
) -> Path:
    """The python of a virtualenv that has motobox (for ``mock: true``).

    motobox is installed editable from the Action's own folder, so the code that runs is the
    code of the Action's ref; the install is redone when its dependencies change."""
    venv = motobox_venv(tool_cache, version)
    wanted = _dependencies_stamp(source / "pyproject.toml")
    stamp = venv / STAMP
    if not stamp.exists() or stamp.read_text() != wanted:
        log(
            f"Installing motobox {version} from {source} into {venv} "
            "(first run; later runs reuse it)"
        )
        started = time.monotonic()
        _create(venv, python, log)
        _pip(venv, ["install", "--progress-bar", "off", "-e", str(source)], log)
        stamp.write_text(wanted)
        log(f"Installed motobox in {time.monotonic() - started:.1f} s")
    return _bin(venv, "python")


def main(argv: Sequence[str]) -> int:
    import argparse

    from taskcat_action import __version__

    parser = argparse.ArgumentParser(
        prog="python -m taskcat_action install",
        description="Install taskcat (and, with --with-motobox, motobox) into a tool cache, "
        "so later Action runs reuse it.",
    )
    parser.add_argument("--tool-cache", required=True, type=Path, metavar="DIR")
    parser.add_argument("--taskcat-version", default=os.environ.get("TASKCAT_VERSION", "0.9.58"))
    parser.add_argument(
        "--with-motobox",
        type=Path,
        metavar="SOURCE",
        help="also install motobox from this folder (the Action's own), for mock: true",
    )
    args = parser.parse_args(argv)
    ensure_taskcat(args.tool_cache, args.taskcat_version)
    if args.with_motobox:
        ensure_motobox(args.tool_cache, args.with_motobox, __version__)
    return 0
