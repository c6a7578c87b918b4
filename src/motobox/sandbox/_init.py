"""The program's supervisor, and the maker of a sealed run's namespaces.

Run as ``python -S _init.py MODE ...`` (``-S``: standard library only, so it starts in
milliseconds). Both jobs are a few system calls (``unshare``, ``setns``, ``mount``, ``prctl``,
through ctypes: Python 3.11 has no ``os.unshare``) that must run in a single-threaded process of
their own: the kernel refuses to move a multi-threaded process, such as motobox, into a user
namespace.

MODE ``pid-namespace`` or ``subreaper``: ``_init.py MODE -- PROGRAM [ARG...]``, started by
``process.supervised`` for every program. It is the program's parent:

    motobox --(subprocess)--> _init (outer) --fork--> init (PID 1 of a new PID namespace)
                                                           --fork/exec--> the program

* The outer process dies with motobox (``PR_SET_PDEATHSIG``), PID 1 dies with the outer
  process, and when PID 1 of a namespace dies the kernel kills every process in it, however
  they detached (``setsid``, double forks). So the program and all it started end with the
  run, even when motobox is killed with SIGKILL.
* PID 1 forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGUSR1/2 to the program, reaps orphans,
  and exits with the program's exit code (128+N when signal N killed it, as shells report).
* MODE ``subreaper`` (a user without privilege, unsealed: a PID namespace would need a user
  namespace, in which ``sudo`` and other set-user-ID programs stop working): the outer process
  marks itself a child subreaper, so orphans are reparented to it, and kills every one left
  when the program ends. Its parent-death signal is ``END``, which it catches to do the same,
  so a SIGKILL of motobox still ends everything.
* ``END`` (SIGRTMIN) sent to the outer process ends the run in either mode: everything the
  program started is killed and the outer process exits 137. motobox sends it where it would
  otherwise SIGKILL the supervisor (a timeout's end of grace, an interrupted motobox).
* In a sealed run (``MOTOBOX_SEAL`` from ``seal.py``: ``NETFD[,USERFD];SRC=DST;...``) the
  outer process first joins the run's user namespace when it has one (it is owned by our uid,
  so that needs no privilege and gives every capability inside it), then its network
  namespace, makes a mount namespace of its own and bind-mounts the run's /etc files there. A
  PID namespace then needs no privilege either, so a sealed run always gets one. The program's
  uid maps to itself: after ``exec`` a non-root program holds no capability, so it cannot undo
  the mounts.

MODE ``namespaces``: ``_init.py namespaces SOCK PATH``, started once per sealed run by
``seal.NamespaceHelper`` as the cloud starts, over a socketpair (SOCK):

    _init namespaces: unshare(NET [| USER]), uid/gid maps, lo up, bind 127.0.0.1:80, :443
                      and :53/udp, then wait
    motobox  --------> "PORT PORT": its servers' ports, once they listen
    _init namespaces: bind 127.0.0.1:PORT for each
    motobox <--SCM_RIGHTS-- netns fd, [userns fd], the TCP sockets (80, 443, PORT...), UDP 53
    _init namespaces: exit

PATH ``root`` unshares a network namespace only: root's programs stay in the host's user
namespace, where root means what it means outside. PATH ``userns`` unshares a user namespace
too, in which the caller's uid and gid map to themselves (files the program writes belong to
the user, and it sees its own ids) and which owns the network namespace, so bringing ``lo`` up
and binding 53, 80 and 443 need no privilege. A socket keeps the namespace it was made in:
motobox accepts on them from the host's namespace and answers over the host's loopback. The
namespaces live as long as motobox holds their descriptors, so this process exits once they are
handed over. A failure is sent back as ``STEP ERRNO``; ``seal.py`` words it (naming the setting
that refused).
"""

import ctypes
import os
import signal
import sys
from collections.abc import Callable

CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
FORWARDED = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
)
END = signal.SIGRTMIN  # "end the run now": see the module docstring

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """``sig`` to us when our parent dies; ``parent`` 0 means "outside our PID namespace"."""
    _libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
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
    """Join the sealed run's namespaces (``NETFD[,USERFD];SRC=DST;...``, from ``seal.py``) and
    bind-mount the run's /etc files in a mount namespace of our own; exit 2 with one line if we
    cannot."""
    fds, *mounts = spec.split(";")
    net, _, user = fds.partition(",")

    def fail(what: str) -> None:
        err = ctypes.get_errno()
        sys.stderr.write(f"motobox: --seal: {what} failed: {os.strerror(err)}\n")
        os._exit(2)

    if user:  # first: the network namespace belongs to it, and so will our mount namespace
        if _libc.setns(int(user), CLONE_NEWUSER) != 0:
            fail("setns(user)")
        os.close(int(user))
    if _libc.setns(int(net), CLONE_NEWNET) != 0:
        fail("setns(network)")
    os.close(int(net))
    if _libc.unshare(CLONE_NEWNS) != 0:
        fail("unshare(mount)")
    if _libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        fail("making / private")
    for item in mounts:
        src, dst = item.split("=", 1)
        if _libc.mount(src.encode(), dst.encode(), None, MS_BIND, None) != 0:
            fail(f"bind-mounting {dst}")


def _lo_up() -> None:
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def make_namespaces(channel_fd: int, path: str) -> int:
    """MODE ``namespaces`` (see the module docstring): the namespaces and the sockets made in
    them, sent over ``channel_fd`` once motobox has sent the ports of its own to bind; or
    ``STEP ERRNO`` as soon as the kernel refuses a step."""
    import socket

    channel = socket.socket(fileno=channel_fd)
    uid, gid = os.geteuid(), os.getegid()  # read before unshare: after it they are unmapped
    if _libc.unshare(CLONE_NEWNET | (CLONE_NEWUSER if path == "userns" else 0)) != 0:
        channel.send(f"unshare {ctypes.get_errno()}".encode())
        return 1
    step = ""
    sockets = []

    def listen(port: int) -> None:
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind(("127.0.0.1", port))
        tcp.listen(128)
        sockets.append(tcp)

    try:
        if path == "userns":  # setgroups first: an unprivileged gid_map needs it denied
            for step, text in (
                ("setgroups", "deny"),
                ("uid_map", f"{uid} {uid} 1"),
                ("gid_map", f"{gid} {gid} 1"),
            ):
                with open(f"/proc/self/{step}", "w") as f:
                    f.write(text)
        step = "lo"
        _lo_up()
        for port in (80, 443):
            step = f"tcp:{port}"
            listen(port)
        step = "udp:53"
        dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dns.bind(("127.0.0.1", 53))
        ports = channel.recv(4096)  # motobox's own ports, once its servers listen
        if not ports:
            return 0  # motobox gave up (its start failed): nothing to hand over
        for port in map(int, ports.split()):
            step = f"tcp:{port}"
            listen(port)
        step = "handing over"
        fds = [os.open("/proc/self/ns/net", os.O_RDONLY)]
        if path == "userns":
            fds.append(os.open("/proc/self/ns/user", os.O_RDONLY))
        socket.send_fds(channel, [b"ok"], fds + [s.fileno() for s in [*sockets, dns]])
    except OSError as exc:
        channel.send(f"{step} {exc.errno or 0}".encode())
        return 1
    return 0


def _end_on(sig: int, end: Callable[[], object]) -> None:
    """``sig`` ends the run: ``end()`` kills what the program started, then we exit 137."""

    def handler(signum: int, frame: object) -> None:
        end()
        os._exit(137)

    signal.signal(sig, handler)


def main(args: list) -> int:
    if args[0] == "namespaces":
        _die_with_parent(os.getppid())
        return make_namespaces(int(args[1]), args[2])
    mode, sep, argv = args[0], args[1], args[2:]
    assert sep == "--" and argv
    parent = int(os.environ.pop("MOTOBOX_SUPERVISOR_PARENT", "0")) or os.getppid()
    _die_with_parent(parent)
    seal = os.environ.pop("MOTOBOX_SEAL", "")
    if seal:
        _seal(seal)
        mode = "pid-namespace"  # inside the run's namespaces a PID namespace is ours to make
    me = os.getpid()
    _hold_signals()  # until _forward_to; the forks below inherit the hold
    if mode == "pid-namespace" and _libc.unshare(CLONE_NEWPID) == 0:
        init = os.fork()
        if init == 0:
            _namespace_init(me, argv)
        # PID 1 dies with us, and the kernel ends its namespace with it.
        _end_on(END, lambda: os.kill(init, signal.SIGKILL))
        _forward_to(init)
        return _wait_for(init, reap_all=False)
    # subreaper: our own death (motobox's, by PR_SET_PDEATHSIG) must end the run too
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    _end_on(END, lambda: _kill_descendants(me))
    _die_with_parent(parent, END)
    program = os.fork()
    if program == 0:
        _exec(argv)
    _forward_to(program)
    code = _wait_for(program, reap_all=True)
    _kill_descendants(me)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
