"""Shared helpers: where the black-box tools live, and how to run motobox offline.

The black boxes are built by ``make tools`` (``make test`` does it first). A test that needs
one fails with a message saying so; it is never skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools"
TASKCAT = TOOLS / "taskcat" / "bin" / "taskcat"
AWS_CLI = TOOLS / "awscli" / "bin" / "aws"
OLD_PYTHON = TOOLS / "boto-old" / "bin" / "python"
NODE_DIR = ROOT / "tests" / "node"
MOTOBOX = [sys.executable, "-m", "motobox"]


def require(path: Path) -> str:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make tools` (make test does it)", pytrace=False)
    return str(path)


def offline(argv: Sequence[str]) -> list[str]:
    """``argv`` inside a network namespace that has only loopback: a leak probe can never
    reach the internet or AWS, even when the code under test is broken."""
    return ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv]


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


def read_journal(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ops(records: list[dict]) -> list[str]:
    return [f"{r['service']}:{r['operation']}" for r in records if r["kind"] == "aws"]


@pytest.fixture
def clean_env() -> dict[str, str]:
    """Our environment without any AWS settings of the machine."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
