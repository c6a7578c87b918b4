"""Which of this machine's interpreters runs a Lambda runtime, or why none can.

    resolve(runtime, package_type, function, path) -> Interpreter | Unavailable

    python3.X   motobox's own interpreter when it is 3.X; else a ``python3.X`` on PATH that
                answers as 3.X (pyenv leaves shims on PATH for versions it does not select,
                which exit 127: each candidate is asked once for its version); else motobox's
                own interpreter, and the journal says which ran
    nodejsNN.x  ``node`` on PATH (its version is asked once and journaled)
    others      java, dotnet, ruby, provided (custom runtimes), go1.x, container images:
                ``Unavailable`` with a one-line reason that names the runtime and what to do

Probes are cached per executable for the life of the process: a probe costs a process start
(about 20 ms for Python, 40 ms for Node) and a machine's interpreters do not change while
motobox runs.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

WHAT_TO_DO = (
    "answer lambda:Invoke for it with a scenario rule (respond: or error:), "
    "or give it a python3.x or nodejs runtime"
)


@dataclass(frozen=True)
class Interpreter:
    language: str  # "python" or "node"
    executable: str
    #: What ran, for the journal: ``python3.11``, ``node v20.11.1``.
    name: str
    #: ``(3, 11)`` for Python, ``(20, 11)`` for Node.
    version: tuple[int, int]


@dataclass(frozen=True)
class Unavailable:
    reason: str


def resolve(
    runtime: str | None, package_type: str | None, function: str, path: str
) -> Interpreter | Unavailable:
    """The interpreter that runs ``runtime`` here, found on ``path``, or why there is none."""
    if package_type == "Image":
        return Unavailable(
            f"motobox cannot run function {function}: it is a container image, which needs "
            f"Docker (motobox runs functions on this machine's interpreters); {WHAT_TO_DO}"
        )
    if not runtime:
        return Unavailable(f"function {function} has no Runtime; give it python3.x or nodejs")
    python = re.fullmatch(r"python3\.(\d+)", runtime)
    if python:
        return _python(int(python.group(1)), path)
    if runtime.startswith("nodejs"):
        node = shutil.which("node", path=path)
        release = _ask(node, "--version") if node else None
        found = _version(release)
        if node is None or release is None or found is None:
            return Unavailable(
                f"motobox cannot run runtime {runtime} (function {function}): no working "
                "`node` on PATH; install Node.js on PATH, or answer lambda:Invoke for it with "
                "a scenario rule (respond: or error:)"
            )
        return Interpreter("node", node, f"node {release}", found)
    family = re.match(r"[a-z]+", runtime)
    needs = {
        "java": "a JVM and the Lambda Java runtime",
        "dotnet": ".NET and the Lambda .NET runtime",
        "ruby": "Ruby and the Lambda Ruby runtime",
        "provided": "a custom runtime (a bootstrap executable run in Amazon Linux)",
        "go": "the Go runtime (go1.x)",
    }.get(family.group(0) if family else "", "a runtime motobox does not emulate")
    return Unavailable(
        f"motobox cannot run runtime {runtime} (function {function}): it needs {needs}, and "
        f"motobox runs only python3.* and nodejs* functions, on this machine's interpreters; "
        f"{WHAT_TO_DO}"
    )


def _python(minor: int, path: str) -> Interpreter:
    own = sys.version_info[:2]
    if own == (3, minor):
        return Interpreter("python", sys.executable, f"python3.{minor}", own)
    candidate = shutil.which(f"python3.{minor}", path=path)
    asked = "import sys; print('%d.%d' % sys.version_info[:2])"
    if candidate and _version(_ask(candidate, "-S", "-c", asked)) == (3, minor):
        return Interpreter("python", candidate, f"python3.{minor}", (3, minor))
    return Interpreter("python", sys.executable, f"python{own[0]}.{own[1]}", own)


@functools.cache
def _ask(executable: str, *args: str) -> str | None:
    """What ``executable ARGS`` prints when it succeeds (asked once per process)."""
    try:
        done = subprocess.run([executable, *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _version(text: str | None) -> tuple[int, int] | None:
    found = re.match(r"v?(\d+)\.(\d+)", text or "")
    return (int(found.group(1)), int(found.group(2))) if found else None
