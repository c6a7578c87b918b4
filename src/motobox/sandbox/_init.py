"""The program's supervisor: makes sure nothing the program started outlives the run.

Run by ``process.run_program`` as ``python -S _init.py MODE -- PROGRAM [ARG...]`` (``-S``:
standard library only, so it starts in milliseconds). It is the program's parent:

    motobox --(subprocess)--> _init (outer) --fork--> init (PID 1 of a new PID namespace)
                                                           --fork/exec--> the program

* The outer process dies with motobox (``PR_SET_PDEATHSIG``), PID 1 dies with the outer
  process, and when PID 1 of a namespace dies the kernel kills every process in it, however
  they detached (``setsid``, double forks). So the program and all it started end with the
  run, even when motobox is killed with SIGKILL.
* PID 1 forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGUSR1/2 to the program, reaps orphans,
  and exits with the program's exit code (128+N when signal N killed it, as shells report).
* MODE ``subreaper`` (where new PID namespaces are not allowed): the outer process marks itself
  a child subreaper, so orphans are reparented to it, and kills every one left when the
  program ends. This holds for timeouts and normal ends, not for a SIGKILL of motobox.

Python 3.11 has no ``os.unshare``; ``unshare(2)`` and ``prctl(2)`` are called through ctypes.
"""

import ctypes
import os
import signal
import sys

CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
FORWARDED = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
)

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent: int) -> None:
    """SIGKILL us when our parent dies; ``parent`` 0 means "outside our PID namespace"."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(137)


def _status_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _hold_signals() -> None:
    """Forwarded signals wait (blocked, pending) until ``_forward_to`` is in place: the
    program can answer (print "ready") before its parent has set up forwarding, and a signal
    in that window would otherwise kill the parent instead of reaching the program."""
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)


def _forward_to(pid: int) -> None:
    def forward(signum: int, frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for sig in FORWARDED:
        signal.signal(sig, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)  # what waited is forwarded now


def _exec(argv: list) -> None:
    for sig in FORWARDED:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)  # the mask outlives exec
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        sys.stderr.write(f"motobox: cannot run {argv[0]}: {exc.strerror}\n")
        os._exit(126 if exc.errno == 13 else 127)


def _wait_for(program: int, *, reap_all: bool) -> int:
    """Waits until ``program`` exits (reaping any other child on the way); its exit code."""
    while True:
        try:
            pid, status = os.waitpid(-1 if reap_all else program, 0)
        except ChildProcessError:
            return 127
        except InterruptedError:
            continue
        if pid == program:
            return _status_code(status)


def _namespace_init(parent: int, argv: list) -> None:
    """PID 1 of the namespace: start the program, forward signals, reap, exit like it."""
    _die_with_parent(0)  # our parent lives outside the namespace: getppid() says 0
    program = os.fork()
    if program == 0:
        _exec(argv)
    _forward_to(program)
    code = _wait_for(program, reap_all=True)
    os._exit(code)  # the kernel now kills whatever is left in the namespace


def _kill_descendants(me: int) -> None:
    """SIGKILL every process whose parent is ``me`` (orphans come to us as subreaper)."""
    while True:
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
            if ppid == me:
                children.append(int(entry))
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _seal(spec: str) -> None:
    """Join the sealed network namespace (``FD;SRC=DST;...``, from ``seal.py``) and bind-mount
    the run's /etc files in a mount namespace of our own; exit 2 with one line if we cannot."""
    fd, *mounts = spec.split(";")

    def fail(what: str) -> None:
        err = ctypes.get_errno()
        sys.stderr.write(f"motobox: --seal: {what} failed: {os.strerror(err)}\n")
        os._exit(2)

    if _libc.setns(int(fd), CLONE_NEWNET) != 0:
        fail("setns(network)")
    os.close(int(fd))
    if _libc.unshare(CLONE_NEWNS) != 0:
        fail("unshare(mount)")
    if _libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        fail("making / private")
    for item in mounts:
        src, dst = item.split("=", 1)
        if _libc.mount(src.encode(), dst.encode(), None, MS_BIND, None) != 0:
            fail(f"bind-mounting {dst}")


def main(args: list) -> int:
    mode, sep, argv = args[0], args[1], args[2:]
    assert sep == "--" and argv
    parent = int(os.environ.pop("MOTOBOX_SUPERVISOR_PARENT", "0")) or os.getppid()
    _die_with_parent(parent)
    seal = os.environ.pop("MOTOBOX_SEAL", "")
    if seal:
        _seal(seal)
    me = os.getpid()
    _hold_signals()  # until _forward_to; the forks below inherit the hold
    if mode == "pid-namespace" and _libc.unshare(CLONE_NEWPID) == 0:
        init = os.fork()
        if init == 0:
            _namespace_init(me, argv)
        _forward_to(init)
        return _wait_for(init, reap_all=False)
    # subreaper
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    program = os.fork()
    if program == 0:
        _exec(argv)
    _forward_to(program)
    code = _wait_for(program, reap_all=True)
    _kill_descendants(me)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
