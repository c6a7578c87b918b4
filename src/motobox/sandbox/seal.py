"""Sealed runs: the program's only network is a namespace of loopback in which motobox answers.

    motobox process (host network)                 program's network namespace (lo only)
    ------------------------------                 -------------------------------------
    cloud (WSGIServer)  <-- accept loop --------   127.0.0.1:<cloud port>
    egress proxy        <-- accept loop --------   127.0.0.1:<proxy port>
    egress (direct)     <-- accept loop --------   127.0.0.1:80, 127.0.0.1:443 (TLS, SNI)
    DNS answers         <-- recvfrom loop ------   127.0.0.1:53/udp: every name -> 127.0.0.1

How, the same for root and for a user without privilege:

1. ``NamespaceHelper`` starts ``_init.py namespaces``, a helper process (only a single-threaded
   process may enter a new user namespace, and motobox has threads by then). It makes the
   network namespace, brings ``lo`` up, binds every listening socket above inside it (the
   cloud's and the proxy's once motobox sends their ports), sends them with descriptors of its
   namespaces back over a socketpair (SCM_RIGHTS) and exits. A socket keeps the namespace it
   was made in: motobox's threads, in the host's namespace, accept on them and hand each
   connection to the callables given to ``Seal`` (``forwards``, ``direct``), which reach the
   cloud over the host's loopback.
2. Every process of the run (the program, an Action's steps, Lambda functions) starts through
   ``process.supervised``, whose supervisor joins the namespaces through those descriptors
   (``MOTOBOX_SEAL``, see ``_init.py``), makes a private mount namespace in which
   ``/etc/resolv.conf``, ``/etc/hosts``, ``/etc/nsswitch.conf`` (no ``resolve``: glibc would ask
   systemd-resolved over a Unix socket) and the system CA bundle (with the per-run CA
   appended) are bind-mounted from the run's state folder, and a PID namespace.
3. The journal's first record names the path taken: ``{"kind": "seal", "path": "userns", ...}``.

The two paths differ in one flag of the helper's ``unshare``. ``root`` (root with
CAP_SYS_ADMIN): the network namespace belongs to the host's user namespace, so root's programs
keep root's meaning outside (files of other users, devices). ``userns`` (anyone else): a user
namespace comes first, in which the user's uid and gid map to themselves and which owns the
network namespace: bringing ``lo`` up, binding 53/80/443 and the mounts need no privilege, the
program sees its own ids, files it writes belong to the user, and after ``exec`` it holds no
capability (it cannot undo the mounts). Where the kernel refuses the user namespace
(``user.max_user_namespaces=0``, Ubuntu's ``kernel.apparmor_restrict_unprivileged_userns=1``,
Debian's ``kernel.unprivileged_userns_clone=0``, a container's seccomp profile) ``--seal``
exits 2 with one line that names the setting and the way out; it never runs unsealed.

Cost, measured on this (shared, 2-core) machine: the helper from start to hand-over takes
67-76 ms (a ``python -S`` start importing ``socket`` and ``ctypes``), where root's namespace
used to be made in a thread of motobox in ~1 ms. ``Cloud`` starts the helper before moto loads,
so that time runs beside moto's import: the run then waits ~4 ms for it. Worth it for one code
path that serves both kinds of user.

The DNS answers are written here from the wire format (RFC 1035): a question is parsed, A gets
127.0.0.1, any other type an empty NOERROR answer (AAAA included: an error would make resolvers
give up), each question journaled. A library for 40 lines of packing was not worth a dependency.
A scenario's ``dns:`` rules (``Seal(dns_fault=...)``, the rule engine's ``select_dns``) make a
name fail instead: NXDOMAIN or SERVFAIL (the question's answer with that RCODE and no records)
or no answer at all (``drop``: the program's resolver times out), journaled with ``forced`` and
``rcode`` (or ``dropped``).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motobox.errors import UsageError
from motobox.journal import Journal
from motobox.sandbox import _init

INIT = Path(_init.__file__)
CAP_SYS_ADMIN = 21
SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n"
HOSTS = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
WAY_OUT = "run motobox as root, or leave --seal out"


def seal_path() -> str:
    """``root`` when this process may make and join network namespaces itself (root with
    CAP_SYS_ADMIN), else ``userns``."""
    if os.geteuid() != 0:
        return "userns"
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return "root" if int(line.split()[1], 16) >> CAP_SYS_ADMIN & 1 else "userns"
    return "userns"


def _sysctl(name: str) -> str | None:
    try:
        return Path("/proc/sys", *name.split(".")).read_text().strip()
    except OSError:
        return None


def refusal(path: str, step: str, err: int) -> str:
    """One line for a step the kernel refused to the namespace helper: the setting that
    refused it, when one can be named, and the way out."""
    reason = f"{step}: {os.strerror(err)}"
    if step.startswith("tcp:") and err == errno.EADDRINUSE:
        port = step[4:]
        return f"--seal: port {port} is motobox's own inside the sealed run; pick another --port"
    if path == "root":
        return f"--seal: the kernel refused a network namespace ({reason}); leave --seal out"
    if _sysctl("kernel.apparmor_restrict_unprivileged_userns") == "1":
        return (
            "--seal: AppArmor refuses user namespaces to unprivileged programs here "
            f"(kernel.apparmor_restrict_unprivileged_userns=1; {reason}); set it to 0 "
            f"(sysctl -w), or give {sys.executable} an AppArmor profile with `userns,`, "
            f"{WAY_OUT}"
        )
    if _sysctl("kernel.unprivileged_userns_clone") == "0":
        return (
            "--seal: user namespaces are refused to unprivileged users here "
            f"(kernel.unprivileged_userns_clone=0; {reason}); set it to 1 (sysctl -w), {WAY_OUT}"
        )
    limit = _sysctl("user.max_user_namespaces")
    if limit == "0":
        return (
            "--seal: user namespaces are disabled here (user.max_user_namespaces=0); raise it "
            f"(sysctl -w user.max_user_namespaces=15000), {WAY_OUT}"
        )
    if step == "unshare" and err == errno.ENOSPC:
        return (
            f"--seal: no user namespace is left (user.max_user_namespaces={limit} reached); "
            f"end some or raise the limit (sysctl -w), {WAY_OUT}"
        )
    return (
        f"--seal: the kernel refused a user namespace to this user ({reason}; a container's "
        f"seccomp profile refuses them unless it allows unshare); allow them, {WAY_OUT}"
    )


@dataclass
class Namespaces:
    """What ``NamespaceHelper.finish`` hands back: the namespaces' descriptors (``userns_fd`` -1 on
    the root path) and the sockets bound inside, by TCP port, and the DNS one."""

    path: str
    netns_fd: int
    userns_fd: int
    listeners: dict[int, socket.socket] = field(default_factory=dict)
    dns: socket.socket | None = None

    @property
    def fds(self) -> tuple[int, ...]:
        return (self.netns_fd,) if self.userns_fd < 0 else (self.netns_fd, self.userns_fd)

    def close(self) -> None:
        for sock in [*self.listeners.values(), *([self.dns] if self.dns else [])]:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept/recvfrom
            except OSError:
                pass
            sock.close()
        self.listeners.clear()
        self.dns = None
        for fd in self.fds:
            if fd >= 0:
                os.close(fd)
        self.netns_fd = self.userns_fd = -1


class NamespaceHelper:
    """``_init.py namespaces``, started as early as the run allows (``Cloud`` starts it before
    moto loads, so its Python start-up, ~40 ms, runs beside that); ``finish`` sends the ports
    of motobox's own servers and takes the namespaces and sockets back (module docstring)."""

    def __init__(self) -> None:
        self.path = seal_path()
        if not Path("/proc/self/ns/net").exists():
            raise UsageError("--seal needs Linux namespaces (/proc/self/ns/net is missing)")
        self._channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:  # closed here once the helper has it: its exit ends our receive
            self._helper = subprocess.Popen(
                [sys.executable, "-S", str(INIT), "namespaces", str(theirs.fileno()), self.path],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )

    def finish(self, tcp_ports: list[int]) -> Namespaces:
        """The namespaces, and sockets on 80, 443, each of ``tcp_ports`` and 53/udp inside;
        ``UsageError`` (one line) when the kernel refused a step."""
        try:
            self._channel.send(" ".join(map(str, tcp_ports)).encode() or b" ")
        except OSError:
            pass  # the helper has failed and exited: its answer waits to be read
        most = 2 + 2 + len(tcp_ports) + 1
        with self._channel:
            try:
                message, fds, _, _ = socket.recv_fds(self._channel, 256, most)
            except ConnectionResetError:
                # The helper failed and exited with our ports unread: the kernel reports that
                # reset first, and the helper's answer (which step, which errno) waits behind it.
                message, fds, _, _ = socket.recv_fds(self._channel, 256, most)
        if message == b"ok":  # it exits now; not waited for here (~5 ms of Python's exit)
            threading.Thread(target=self._helper.communicate, daemon=True).start()
        else:
            _, stderr = self._helper.communicate()
            for fd in fds:
                os.close(fd)
            if not message:  # the helper died before it could say why
                last = stderr.decode(errors="replace").strip().splitlines()[-1:]
                raise UsageError(f"--seal: the namespace helper failed: {''.join(last)}")
            step, _, err = message.decode().partition(" ")
            raise UsageError(refusal(self.path, step, int(err)))
        made = Namespaces(self.path, fds[0], fds[1] if self.path == "userns" else -1)
        sockets = [socket.socket(fileno=fd) for fd in fds[len(made.fds) :]]
        made.listeners = dict(zip([80, 443, *tcp_ports], sockets[:-1], strict=True))
        made.dns = sockets[-1]
        return made

    def cancel(self) -> None:
        """The run will not seal after all (its start failed): the helper exits."""
        self._channel.close()
        self._helper.wait()


def can_seal() -> tuple[bool, str]:
    """Whether ``--seal`` works for this user: a sealed ``true`` run for real."""
    from motobox.sandbox.process import supervised

    with tempfile.TemporaryDirectory(prefix="motobox-doctor-") as state:
        seal = Seal(Journal(), Path(state), b"", forwards=[], direct=lambda conn, port: None)
        try:
            seal.start()
        except UsageError as exc:
            return False, exc.line()
        try:
            done = supervised(["true"], os.environ, seal=seal, stderr=subprocess.PIPE)
            _, err = done.communicate()
        finally:
            seal.stop()
    if done.returncode != 0:
        return False, err.decode(errors="replace").strip() or f"exit {done.returncode}"
    if seal.path == "root":
        return True, "seal: root (network and mount namespaces; every name resolves to motobox)"
    return True, (
        f"seal: userns (user, network, mount and PID namespaces; uid {os.geteuid()} and gid "
        f"{os.getegid()} map to themselves; every name resolves to motobox)"
    )


#: The RCODEs a ``dns:`` rule may answer with (RFC 1035 4.1.1).
RCODES = {"NOERROR": 0, "SERVFAIL": 2, "NXDOMAIN": 3}


def dns_answer(query: bytes, rcode: int = 0) -> tuple[bytes, str, int] | None:
    """The answer to one DNS query packet, the name asked and the type; None if malformed.
    With an ``rcode`` other than 0 (NOERROR), that RCODE and no records."""
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    if qdcount < 1:
        return None
    labels, pos = [], 12
    while True:
        if pos >= len(query):
            return None
        n = query[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0 or pos + 1 + n > len(query):
            return None
        labels.append(query[pos + 1 : pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    if pos + 4 > len(query):
        return None
    qtype, qclass = struct.unpack("!HH", query[pos : pos + 4])
    question = query[12 : pos + 4]
    answers = b""
    if qtype == 1 and qclass == 1 and rcode == 0:  # A IN
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
    header = struct.pack(
        "!HHHHHH",
        ident,
        0x8000 | (flags & 0x7900) | 0x0080 | (rcode & 0xF),  # response, opcode and RD kept, RA
        1,
        1 if answers else 0,
        0,
        0,
    )
    return header + question + answers, ".".join(labels), qtype


_TYPES = {1: "A", 28: "AAAA", 5: "CNAME", 65: "HTTPS", 15: "MX", 16: "TXT", 33: "SRV"}


class Seal:
    """The program's network namespace and what answers in it (see the module docstring)."""

    def __init__(
        self,
        journal: Journal,
        state_dir: Path,
        ca_pem: bytes,
        *,
        forwards: list[tuple[int, Callable[[socket.socket, Any], None]]],
        direct: Callable[[socket.socket, int], None],
        helper: NamespaceHelper | None = None,
        dns_fault: Callable[[str, str], tuple[str, str] | None] | None = None,
    ) -> None:
        self.journal = journal
        #: ``(name, type) -> (answer, source)`` for a question a ``dns:`` rule fails
        #: (answer: NXDOMAIN, SERVFAIL or drop), else None.
        self.dns_fault = dns_fault
        self._helper = helper  # started earlier by the caller, or by start()
        self.state_dir = state_dir
        self.ca_pem = ca_pem
        self.forwards = forwards
        self.direct = direct
        self.path = ""  # "root" or "userns" once started
        self._namespaces: Namespaces | None = None
        self._stopping = threading.Event()
        self.mounts: list[tuple[str, str]] = []

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> Seal:
        helper, self._helper = self._helper or NamespaceHelper(), None
        ns = self._namespaces = helper.finish([port for port, _ in self.forwards])
        self.path = ns.path
        self.journal.append(
            {"kind": "seal", "path": ns.path, "uid": os.geteuid(), "gid": os.getegid()}
        )
        try:
            self._write_files()
        except BaseException:
            self.stop()
            raise
        for port, accept in self.forwards:
            self._serve_tcp(ns.listeners[port], accept)
        self._serve_tcp(ns.listeners[80], lambda conn, addr: self.direct(conn, 80))
        self._serve_tcp(ns.listeners[443], lambda conn, addr: self.direct(conn, 443))
        assert ns.dns
        self._thread(self._dns_loop, ns.dns)
        return self

    def _thread(self, target: Callable[..., None], *args: Any) -> None:
        threading.Thread(target=target, args=args, daemon=True, name="motobox-seal").start()

    def _serve_tcp(self, sock: socket.socket, handle: Callable[[socket.socket, Any], None]) -> None:
        def loop() -> None:
            while not self._stopping.is_set():
                try:
                    conn, addr = sock.accept()
                except OSError:
                    return
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                handle(conn, addr)

        self._thread(loop)

    def _dns_loop(self, sock: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                query, peer = sock.recvfrom(4096)
            except OSError:
                return
            answer = dns_answer(query)
            if answer is None:
                continue
            packet, name, qtype = answer
            kind = _TYPES.get(qtype, str(qtype))
            record: dict[str, Any] = {
                "kind": "dns",
                "name": name,
                "type": kind,
                "answer": "127.0.0.1" if qtype == 1 else None,
                "forced": None,
            }
            fault = self.dns_fault(name, kind) if self.dns_fault is not None else None
            if fault is not None:
                how, source = fault
                record.update(answer=None, forced=source)
                if how == "drop":
                    self.journal.append({**record, "dropped": True})
                    continue  # no answer: the program's resolver waits out its timeout
                packet = (dns_answer(query, RCODES[how]) or (packet,))[0]
                record["rcode"] = how
            try:
                sock.sendto(packet, peer)
            except OSError:
                continue
            self.journal.append(record)

    def _write_files(self) -> None:
        etc = self.state_dir / "etc"
        etc.mkdir(exist_ok=True)
        files = {
            "resolv.conf": "nameserver 127.0.0.1\noptions ndots:0 attempts:1 timeout:2\n",
            "hosts": HOSTS,
            "nsswitch.conf": NSSWITCH,
        }
        for name, text in files.items():
            (etc / name).write_text(text)
            self.mounts.append((str(etc / name), f"/etc/{name}"))
        for bundle in SYSTEM_BUNDLES:
            if Path(bundle).exists():
                combined = etc / "ca-certificates.crt"
                combined.write_bytes(Path(bundle).read_bytes().rstrip(b"\n") + b"\n" + self.ca_pem)
                self.mounts.append((str(combined), bundle))
                break

    def hand_out(self, path: Path) -> None:
        """Serve this seal to other motobox processes of the same user (``motobox run --cloud
        URL --seal``): a Unix socket at ``path`` (mode 0600) that answers each connection with
        the namespaces' descriptors (SCM_RIGHTS) and the bind mounts, so their programs join
        this run's namespaces and reach this cloud's DNS, 80/443 and ports."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        os.chmod(path, 0o600)
        listener.listen(16)
        self._handout: socket.socket | None = listener
        spec = json.dumps({"path": self.path, "mounts": self.mounts}).encode()

        def loop() -> None:
            while not self._stopping.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    try:
                        socket.send_fds(conn, [spec], list(self.fds))
                    except OSError:
                        continue

        self._thread(loop)

    def stop(self) -> None:
        self._stopping.set()
        handout: socket.socket | None = getattr(self, "_handout", None)
        if handout is not None:
            try:
                handout.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            handout.close()
            self._handout = None
        if self._helper:  # never started
            self._helper.cancel()
            self._helper = None
        if self._namespaces:
            self._namespaces.close()
            self._namespaces = None

    # -- what the supervisor needs -------------------------------------------------------
    @property
    def fds(self) -> tuple[int, ...]:
        """The namespaces' descriptors, which the supervisor must inherit."""
        return self._namespaces.fds if self._namespaces else ()

    def supervisor_env(self) -> str:
        """``MOTOBOX_SEAL`` for ``_init.py``: ``NETFD[,USERFD]`` and the bind mounts."""
        fds = ",".join(map(str, self.fds))
        return ";".join([fds, *(f"{src}={dst}" for src, dst in self.mounts)])


class JoinedSeal:
    """The seal of a cloud another motobox serves (``Seal.hand_out``): the same interface
    ``process.supervised`` reads (``fds``, ``supervisor_env``), from descriptors received over
    the serving process's Unix socket."""

    def __init__(self, socket_path: str) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(socket_path)
                data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 2)
            except OSError as exc:
                raise UsageError(
                    f"--seal: cannot join the running cloud's seal at {socket_path} "
                    f"({exc.strerror or exc}); is it served by the same user?"
                ) from None
        spec = json.loads(data)
        self.path = str(spec["path"])
        self.mounts: list[tuple[str, str]] = [(str(s), str(d)) for s, d in spec["mounts"]]
        self._fds = tuple(fds)

    @property
    def fds(self) -> tuple[int, ...]:
        return self._fds

    def supervisor_env(self) -> str:
        fds = ",".join(map(str, self._fds))
        return ";".join([fds, *(f"{src}={dst}" for src, dst in self.mounts)])

    def stop(self) -> None:
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = ()
