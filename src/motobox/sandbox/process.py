"""Runs the user's program under supervision and reports how it ended.

    run_program(argv, env)
      -> resolve argv[0] on the env's PATH, like a shell (127 not found, 126 not executable)
      -> supervised(): start ``_init.py`` (the supervisor: PID namespace or subreaper, see its
         docstring) in a session of its own, so a terminal's Ctrl-C reaches motobox once and
         motobox forwards it; in a sealed run with the namespaces' descriptors and
         ``MOTOBOX_SEAL``, so that it joins them (and then always makes a PID namespace)
      -> forward SIGINT/SIGTERM/SIGHUP received meanwhile; collect or tee the output
      -> on ``timeout``: SIGTERM, a short grace, then ``end()``: the supervisor's END signal,
         on which it kills the program and everything it started; exit code 124

The exit code is the program's, 128+N when signal N killed it. The mode is probed once per
process: ``pid-namespace`` for root, ``subreaper`` for anyone else outside a sealed run (a PID
namespace would need a user namespace, where ``sudo`` no longer works).
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from motobox.errors import ProgramNotFound, UsageError
from motobox.sandbox import _init

INIT = Path(_init.__file__)
GRACE_S = 2.0


@dataclass
class ProgramResult:
    exit_code: int
    stdout: bytes | None
    stderr: bytes | None
    timed_out: bool
    duration_s: float


@functools.cache
def supervision_mode() -> str:
    """``pid-namespace`` when this process may create PID namespaces, else ``subreaper``."""
    probe = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            "import ctypes,sys;sys.exit(ctypes.CDLL(None).unshare(0x20000000))",
        ],
        capture_output=True,
    )
    return "pid-namespace" if probe.returncode == 0 else "subreaper"


def resolve(program: str, env: Mapping[str, str]) -> str:
    """The executable ``program`` names, found the way a shell finds it."""
    if "/" in program:
        path = Path(program)
        if not path.exists():
            raise ProgramNotFound(f"{program}: no such file")
        if path.is_dir() or not os.access(path, os.X_OK):
            err = UsageError(f"{program}: not an executable file (chmod +x it?)")
            err.exit_code = 126
            raise err
        return program
    found = shutil.which(program, path=env.get("PATH", os.defpath))
    if not found:
        raise ProgramNotFound(f"{program}: command not found (is it installed and on PATH?)")
    return found


def _pump(source: IO[bytes], sink: list[bytes], tee: IO[bytes] | None) -> None:
    for chunk in iter(lambda: source.read1(65536), b""):  # type: ignore[attr-defined]
        sink.append(chunk)
        if tee is not None:
            tee.write(chunk)
            tee.flush()


def supervised(
    argv: Sequence[str], env: Mapping[str, str], *, seal: Any = None, **popen: Any
) -> subprocess.Popen[bytes]:
    """``argv`` started under the supervisor (``_init.py``), in a session of its own; with
    ``seal`` (a ``sandbox.seal.Seal``), inside the sealed run's namespaces. Every program
    motobox starts (the user's, an Action's steps, Lambda functions) starts here."""
    child_env = dict(env)
    child_env["MOTOBOX_SUPERVISOR_PARENT"] = str(os.getpid())
    pass_fds: tuple[int, ...] = ()
    if seal is not None:  # the supervisor joins the run's namespaces, then makes a PID one
        child_env["MOTOBOX_SEAL"] = seal.supervisor_env()
        pass_fds = seal.fds
    return subprocess.Popen(
        [sys.executable, "-S", str(INIT), supervision_mode(), "--", *argv],
        env=child_env,
        start_new_session=True,
        pass_fds=pass_fds,
        **popen,
    )


def end(proc: subprocess.Popen[bytes]) -> None:
    """End a supervised run now: ``_init.END`` makes the supervisor kill everything the
    program started and exit (a SIGKILL would leave a subreaper's orphans running); SIGKILL
    only if it has not exited after a grace."""
    try:
        proc.send_signal(_init.END)
        proc.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_program(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: str | Path | None = None,
    timeout: float | None = None,
    capture: bool = False,
    tee: bool = False,
    stdin: int | IO[Any] | None = None,
    seal: Any = None,
) -> ProgramResult:
    if not argv:
        raise UsageError("no command to run")
    argv = [resolve(argv[0], env), *argv[1:]]
    started = time.monotonic()
    # Forwarding is in place before the supervisor starts: a Ctrl-C that comes while it
    # starts waits for it instead of interrupting motobox (``_init`` does the same below).
    target: list[subprocess.Popen[bytes]] = []
    waiting: list[int] = []

    def forward(signum: int, frame: object) -> None:
        if not target:
            waiting.append(signum)
            return
        try:
            target[0].send_signal(signum)
        except ProcessLookupError:
            pass

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, forward)
    pipe = subprocess.PIPE if capture else None
    try:
        proc = supervised(argv, env, seal=seal, cwd=cwd, stdin=stdin, stdout=pipe, stderr=pipe)
    except BaseException:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        raise
    target.append(proc)
    for signum in waiting:
        forward(signum, None)
    out: list[bytes] = []
    err: list[bytes] = []
    pumps = []
    if capture:
        assert proc.stdout and proc.stderr
        for source, sink, echo in (
            (proc.stdout, out, sys.stdout.buffer if tee else None),
            (proc.stderr, err, sys.stderr.buffer if tee else None),
        ):
            t = threading.Thread(target=_pump, args=(source, sink, echo), daemon=True)
            t.start()
            pumps.append(t)

    timed_out = False
    try:
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=GRACE_S)
            except subprocess.TimeoutExpired:
                end(proc)
            code = 124
    finally:
        if proc.poll() is None:  # motobox is being interrupted: take the program down too
            end(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for t in pumps:
        t.join(5)
    if code < 0:  # the supervisor itself was killed by a signal
        code = 128 - code
    return ProgramResult(
        exit_code=code,
        stdout=b"".join(out) if capture else None,
        stderr=b"".join(err) if capture else None,
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
    )
