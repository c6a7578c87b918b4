"""Shared helpers: where the black-box tools live, and how to run motobox offline.

The black boxes are built by ``make tools`` (``make test`` does it first). A test that needs
one fails with a message saying so; it is never skipped.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

# The tests signal the programs they start (SIGINT to motobox, to supervised programs) and
# expect the default dispositions. A suite started from a script in the background without job
# control inherits SIGINT ignored, which every child would inherit too, and ``sh``'s ``trap``
# cannot take back a signal ignored on entry: restore Python's own handler first.
signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools"
TASKCAT = TOOLS / "taskcat" / "bin" / "taskcat"
AWS_CLI = TOOLS / "awscli" / "bin" / "aws"
OLD_PYTHON = TOOLS / "boto-old" / "bin" / "python"
NODE_DIR = ROOT / "tests" / "node"
MOTOBOX = [sys.executable, "-m", "motobox"]
ANY_USER = TOOLS / "any-user"  # motobox's dependencies on a Python any uid can run
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"


def require(path: Path) -> str:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make tools` (make test does it)", pytrace=False)
    return str(path)


def offline(argv: Sequence[str]) -> list[str]:
    """``argv`` inside a network namespace that has only loopback: a leak probe can never
    reach the internet or AWS, even when the code under test is broken."""
    return ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv]


def last_line_of_fresh_python(script: str) -> str:
    """Run ``script`` in a new interpreter (nothing imported yet: what an import-order fix
    needs) and return the last line it printed; its stderr on failure."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()[-1]


def motobox(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    isolated: bool = False,
) -> subprocess.CompletedProcess[str]:
    argv = [*MOTOBOX, *args]
    return subprocess.run(
        offline(argv) if isolated else argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


JOURNAL_SCHEMA = ROOT / "src/motobox/scenario/schema/journal-1.schema.json"


@functools.cache
def _journal_validator() -> Any:
    import jsonschema

    schema = json.loads(JOURNAL_SCHEMA.read_text())
    return jsonschema.Draft202012Validator(schema)


def read_journal(path: Path) -> list[dict]:
    """The journal's records, each one checked against the published journal schema: every
    test that reads a journal also proves what it wrote is the documented contract."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    validator = _journal_validator()
    for record in records:
        errors = sorted(validator.iter_errors(record), key=str)
        assert not errors, f"journal record does not fit {JOURNAL_SCHEMA.name}: {record}"
    return records


def ops(records: list[dict]) -> list[str]:
    return [f"{r['service']}:{r['operation']}" for r in records if r["kind"] == "aws"]


@pytest.fixture
def clean_env() -> dict[str, str]:
    """Our environment without any AWS settings of the machine."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


class OtherUser:
    """Runs motobox and programs as ``uid``, not root: CI runs as root, and root without
    capabilities is no stand-in for a user (mapping uid 0 into a user namespace needs
    CAP_SETFCAP). What the uid runs must be readable by it: the checkout's ``src`` is copied
    into a world-readable folder (so the code under test is always this checkout's), and
    ``.tools/any-user``, the AWS CLI and ``tests/node`` are used where they are, or linked
    (copied across file systems) into that folder when the clone is closed to the uid."""

    def __init__(self, uid: int, base: Path) -> None:
        self.uid = uid
        self.base = base
        leave_out = shutil.ignore_patterns("__pycache__", "*.egg-info")  # no installed motobox
        shutil.copytree(ROOT / "src", base / "src", ignore=leave_out)
        tools = {"any-user": ANY_USER, "awscli": AWS_CLI.parents[1], "node": NODE_DIR}
        self.tools = {name: self._readable(name, path) for name, path in tools.items()}
        (base / "src").chmod(0o755)
        for folder, dirs, files in os.walk(base / "src"):
            for name in [*dirs, *files]:
                path = Path(folder, name)
                path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))
        self.python = str(self.tools["any-user"] / "bin" / "python")
        self.home = self.folder("home")
        self.env = {
            "PATH": f"{self.tools['any-user'] / 'bin'}:{SYSTEM_PATH}",
            "HOME": str(self.home),
            "PYTHONPATH": str(base / "src"),
            "LANG": "C.UTF-8",
        }

    def _readable(self, name: str, path: Path) -> Path:
        require(path)
        if subprocess.run(self.argv(["test", "-r", str(path)])).returncode == 0:
            return path
        staged = self.base / name
        if subprocess.run(["cp", "-al", str(path), str(staged)]).returncode != 0:
            shutil.rmtree(staged, ignore_errors=True)
            subprocess.run(["cp", "-a", str(path), str(staged)], check=True)
        return staged

    @property
    def aws(self) -> list[str]:
        """The AWS CLI, its script run by its own Python (a staged copy's shebang is stale)."""
        cli = self.tools["awscli"]
        return [str(cli / "bin" / "python"), str(cli / "bin" / "aws")]

    def argv(self, argv: Sequence[str]) -> list[str]:
        ids = [f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups"]
        return ["setpriv", *ids, "--", *argv]

    def folder(self, name: str) -> Path:
        """A new folder the uid owns (a workspace, a place for journals)."""
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.base))
        path.chmod(0o755)
        os.chown(path, self.uid, self.uid)
        return path

    def motobox_argv(self, args: Sequence[str]) -> list[str]:
        """``motobox ARGS`` as the uid, inside a loopback-only namespace (``offline``)."""
        return offline(self.argv([self.python, "-m", "motobox", *args]))

    def motobox(
        self, args: Sequence[str], *, cwd: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.motobox_argv(args),
            cwd=cwd or self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def other_user() -> Iterator[OtherUser]:
    """uid 65534 (nobody), set up once per test process."""
    require(ANY_USER / ".stamp")
    base = Path(tempfile.mkdtemp(prefix="motobox-as-uid-"))
    base.chmod(0o755)
    try:
        yield OtherUser(65534, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
