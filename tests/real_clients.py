"""How the real-clients suite (``tests/test_real_clients_*.py``) runs a client.

Every client is unmodified and has no endpoint in its code. It runs under ``motobox run`` in a
loopback-only network namespace (``offline``), so a broken redirection can never leak:

* ``sealed=True``: ``motobox run --seal`` with every endpoint and proxy variable removed from the
  program's environment (``UNREDIRECTED``): the client reaches the cloud as it reaches AWS, by
  name, through motobox's DNS and its TLS on port 443;
* ``sealed=False``: the program keeps the environment motobox gives it (``AWS_ENDPOINT_URL``,
  the egress proxy's ``HTTPS_PROXY``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from conftest import motobox, read_journal

ERROR_LINE = re.compile(r"^(Exception in thread |[A-Za-z][\w.$]*: )")

# The program is stripped of every redirection but the CA variables and the seal itself.
UNREDIRECTED = [
    "env",
    "-u", "AWS_ENDPOINT_URL", "-u", "AWS_DATA_PATH",
    "-u", "HTTP_PROXY", "-u", "HTTPS_PROXY", "-u", "http_proxy", "-u", "https_proxy",
    "-u", "ALL_PROXY", "-u", "all_proxy",
]  # fmt: skip


def run_client(
    argv: Sequence[str],
    *,
    sealed: bool,
    journal: Path,
    scenario: Path | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    args = ["run", "--journal", str(journal)]
    if sealed:
        args.append("--seal")
    if scenario is not None:
        args += ["--scenario", str(scenario)]
    args += ["--", *(UNREDIRECTED if sealed else []), *argv]
    return motobox(args, cwd=cwd, isolated=True, timeout=timeout)


def aws_records(journal: Path) -> list[dict]:
    return [r for r in read_journal(journal) if r["kind"] == "aws"]


def unnamed(records: list[dict]) -> list[str]:
    """The AWS calls journaled without an operation, as ``status service``: each is a call the
    cloud could not name, answered anyway."""
    return [f"{r['status']} {r['service']}" for r in records if not r.get("operation")]


def tail(done: subprocess.CompletedProcess[str]) -> str:
    """What went wrong in a client's output, for an assertion's message: the lines that name an
    error (``NoSuchBucket: ...`` from Node, ``An error occurred (...)`` from the AWS CLI, a
    Python or Java exception), else the last lines."""
    lines = (done.stdout + done.stderr).splitlines()
    errors = [
        line
        for line in lines
        if (ERROR_LINE.match(line) and "Warning" not in line) or "rror occurred" in line
    ]
    return "\n".join(errors[:4] or lines[-8:])
