"""Sealed runs: the program's only network is a namespace of loopback in which motobox answers.

    motobox process (host network)                 program's network namespace (lo only)
    ------------------------------                 -------------------------------------
    cloud (WSGIServer)  <-- accept loop --------   127.0.0.1:<cloud port>
    egress proxy        <-- accept loop --------   127.0.0.1:<proxy port>
    egress (direct)     <-- accept loop --------   127.0.0.1:80, 127.0.0.1:443 (TLS, SNI)
    DNS answers         <-- recvfrom loop ------   127.0.0.1:53/udp: every name -> 127.0.0.1

How: a thread of motobox calls ``unshare(CLONE_NEWNET)`` (a network namespace is per thread),
brings ``lo`` up and creates the listening sockets there; a socket keeps the namespace it was
made in, so motobox's other threads accept on them while they talk to the cloud over the host's
loopback. The program joins the namespace through a descriptor of it (``setns`` in the
supervisor, ``_init.py``), gets a private mount namespace in which ``/etc/resolv.conf``,
``/etc/hosts``, ``/etc/nsswitch.conf`` (no ``resolve``: glibc would ask systemd-resolved over a
Unix socket) and the system CA bundle (with the per-run CA appended) are bind-mounted from the
run's state folder, and its own PID namespace as every run does.

``setns`` into a network namespace needs CAP_SYS_ADMIN, so sealing needs root here; the portable
way for a user without it (a user namespace, with forwarders over Unix sockets) is not built,
and ``--seal`` says so and exits 2 rather than run unsealed.

The DNS answers are written here from the wire format (RFC 1035): a question is parsed, A gets
127.0.0.1, any other type an empty NOERROR answer (AAAA included: an error would make resolvers
give up), each question journaled. A library for 40 lines of packing was not worth a dependency.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motobox.errors import UsageError
from motobox.journal import Journal

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS = 0x8913, 0x8914
IFF_UP = 0x1
SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n"
HOSTS = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"


def sealing_problem() -> str | None:
    """Why this machine cannot seal a run, or None."""
    if os.geteuid() != 0:
        return (
            "--seal needs root here (joining a network namespace needs CAP_SYS_ADMIN); run "
            "motobox as root, e.g. in the CI container, or leave --seal out"
        )
    if not Path("/proc/self/ns/net").exists():
        return "--seal needs Linux network namespaces (/proc/self/ns/net is missing)"
    return None


def can_seal() -> tuple[bool, str]:
    """Whether ``--seal`` works here: tried for real, in a thread that is then discarded."""
    problem = sealing_problem()
    if problem:
        return False, problem
    result: list[int] = []

    def probe() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        result.append(0 if libc.unshare(CLONE_NEWNET) == 0 else ctypes.get_errno())

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    if result and result[0]:
        return False, f"unshare(CLONE_NEWNET) fails here: {os.strerror(result[0])}"
    return True, "network and mount namespaces (run --seal: every name resolves to motobox)"


def _lo_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def dns_answer(query: bytes) -> tuple[bytes, str, int] | None:
    """The answer to one DNS query packet, the name asked and the type; None if malformed."""
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
    if qtype == 1 and qclass == 1:  # A IN
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
    header = struct.pack(
        "!HHHHHH",
        ident,
        0x8000 | (flags & 0x7900) | 0x0080,  # response, opcode and RD kept, RA
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
    ) -> None:
        self.journal = journal
        self.state_dir = state_dir
        self.ca_pem = ca_pem
        self.forwards = forwards
        self.direct = direct
        self.netns_fd = -1
        self._sockets: list[socket.socket] = []
        self._stopping = threading.Event()
        self._loops: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self.mounts: list[tuple[str, str]] = []

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> Seal:
        problem = sealing_problem()
        if problem:
            raise UsageError(problem)
        failure: list[BaseException] = []
        ready = threading.Event()

        def enter() -> None:
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.unshare(CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise UsageError(f"--seal: unshare(CLONE_NEWNET) failed: {os.strerror(err)}")
                _lo_up()
                tid = threading.get_native_id()
                self.netns_fd = os.open(f"/proc/self/task/{tid}/ns/net", os.O_RDONLY)
                self._listen()
            except BaseException as exc:
                failure.append(exc)
            finally:
                ready.set()

        thread = threading.Thread(target=enter, name="motobox-seal-setup")
        thread.start()
        ready.wait()
        thread.join()
        if failure:
            self.stop()
            raise failure[0]
        # The loops start here, in a thread of the host's namespace (a thread inherits its
        # creator's): what they hand on reaches the cloud over the host's loopback.
        for target, args in self._loops:
            threading.Thread(target=target, args=args, daemon=True, name="motobox-seal").start()
        self._write_files()
        return self

    def _listen(self) -> None:
        """Runs in the namespace's thread: every socket made here belongs to it."""
        for port, accept in self.forwards:
            self._serve_tcp(port, accept)
        self._serve_tcp(80, lambda conn, addr: self.direct(conn, 80))
        self._serve_tcp(443, lambda conn, addr: self.direct(conn, 443))
        dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dns.bind(("127.0.0.1", 53))
        self._sockets.append(dns)
        self._loops.append((self._dns_loop, (dns,)))

    def _serve_tcp(self, port: int, handle: Callable[[socket.socket, Any], None]) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        self._sockets.append(sock)

        def loop() -> None:
            while not self._stopping.is_set():
                try:
                    conn, addr = sock.accept()
                except OSError:
                    return
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                handle(conn, addr)

        self._loops.append((loop, ()))

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
            try:
                sock.sendto(packet, peer)
            except OSError:
                continue
            self.journal.append(
                {
                    "kind": "dns",
                    "name": name,
                    "type": _TYPES.get(qtype, str(qtype)),
                    "answer": "127.0.0.1" if qtype == 1 else None,
                }
            )

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

    def stop(self) -> None:
        self._stopping.set()
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept/recvfrom
            except OSError:
                pass
            sock.close()
        self._sockets.clear()
        if self.netns_fd >= 0:
            os.close(self.netns_fd)
            self.netns_fd = -1

    # -- what the supervisor needs -------------------------------------------------------
    def supervisor_env(self) -> str:
        """``MOTOBOX_SEAL`` for ``_init.py``: the namespace's descriptor and the bind mounts."""
        return ";".join([str(self.netns_fd), *(f"{src}={dst}" for src, dst in self.mounts)])
