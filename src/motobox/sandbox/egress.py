"""Egress control: every HTTP(S) request the program makes to anything but the mock.

The program gets ``HTTP_PROXY``/``HTTPS_PROXY`` pointing here. Nothing leaves the machine:

    CONNECT host:443  -> "200 Connection established", then TLS on the tunnel with a
                         certificate the per-run CA mints for ``host``, then HTTP/1.1
                         requests inside the tunnel (keep-alive)
    GET http://host/  -> the same, without TLS
    each request      -> AWS host (every DNS suffix of every partition in botocore's endpoint
                         data)?  forwarded to the gateway with its original Host header, which
                         journals it as an AWS call
                      -> a stub matches?  the stub's answer       (journal: action "stub")
                      -> otherwise        HTTP 403 naming motobox (journal: action "deny")

Deny is an HTTP answer, not a dropped connection: taskcat goes on after an HTTP error for its
report stylesheet but exits 1 on a connection error (DESIGN.md).

``handle_connection`` serves a socket accepted elsewhere with the same logic: a sealed run
points every name at 127.0.0.1 and hands its port 80 and 443 connections here, the host then
coming from SNI and the ``Host`` header.

Written on the standard library (``socketserver``, ``http.server``, ``http.client``, ``ssl``):
proxy libraries such as mitmproxy bring their own event loop and dozens of dependencies for
what is, here, one request handler.
"""

from __future__ import annotations

import functools
import http.client
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from motobox.journal import Journal

if TYPE_CHECKING:
    from motobox.sandbox.ca import CertificateAuthority

HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "transfer-encoding",
        "te",
        "upgrade",
    }
)


@functools.cache
def aws_dns_suffixes() -> tuple[str, ...]:
    """Every DNS suffix of every partition in botocore's endpoint data."""
    from motobox.sandbox.environment import botocore_endpoints_text

    suffixes: set[str] = set()
    for partition in json.loads(botocore_endpoints_text())["partitions"]:
        for key in ("dnsSuffix", "dualStackDnsSuffix"):
            if partition.get(key):
                suffixes.add(partition[key])
        for variant in partition.get("defaults", {}).get("variants", []):
            if variant.get("dnsSuffix"):
                suffixes.add(variant["dnsSuffix"])
    suffixes.add("api.aws")
    return tuple(sorted(suffixes, key=len, reverse=True))


def is_aws_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.lower().rstrip(".")
    return any(name == s or name.endswith("." + s) for s in aws_dns_suffixes())


@dataclass
class Stub:
    url: str | None = None
    host: str | None = None
    status: int = 200
    body: bytes | str = b""
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def matches(self, url: str, host: str) -> bool:
        if self.url is not None:
            want = urlsplit(self.url)
            got = urlsplit(url)
            if (want.scheme, (want.netloc or "").lower(), want.path or "/") != (
                got.scheme,
                got.netloc.lower(),
                got.path or "/",
            ):
                return False
            return not want.query or want.query == got.query
        return self.host is not None and self.host.lower() == host.lower()

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        headers = dict(self.headers)
        if self.json is not None:
            body = json.dumps(self.json).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = self.body.encode() if isinstance(self.body, str) else self.body
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return self.status, headers, body


def _split_host_port(authority: str, default: int) -> tuple[str, int]:
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default
    host, _, port = authority.rpartition(":")
    if host and port.isdigit():
        return host, int(port)
    return authority, default


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    #: (scheme, host, port) of the origin inside a CONNECT tunnel or a direct connection.
    origin: tuple[str, str, int] | None = None

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        self.request.settimeout(120)
        super().setup()

    # -- CONNECT ------------------------------------------------------------------------
    def do_CONNECT(self) -> None:
        host, port = _split_host_port(self.path, 443)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        sock = self.connection
        first = sock.recv(1, socket.MSG_PEEK)
        if first == b"\x16":  # a TLS ClientHello
            try:
                sock = self.server.ca.sni_context(host).wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                self.close_connection = True
                return
            self.origin = ("https", host, port)
        else:
            self.origin = ("http", host, port)
        self._rebind(sock)

    def _rebind(self, sock: socket.socket) -> None:
        self.connection = self.request = sock
        self.rfile = sock.makefile("rb", self.rbufsize)  # type: ignore[assignment]
        self.wfile = sock.makefile("wb", 0)  # type: ignore[assignment]
        self.close_connection = False

    # -- every other method -------------------------------------------------------------
    def _target(self) -> tuple[str, str, int, str]:
        """(scheme, host, port, path-and-query) of this request."""
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            scheme = parts.scheme
            host, port = _split_host_port(parts.netloc, 443 if scheme == "https" else 80)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            return scheme, host, port, path
        if self.origin:
            scheme, host, port = self.origin
            if not host:
                host, port = _split_host_port(self.headers.get("Host", ""), port)
            return scheme, host, port, self.path
        host, port = _split_host_port(self.headers.get("Host", ""), 80)
        return "http", host, port, self.path

    def _chunks(self) -> Iterator[bytes]:
        """A ``Transfer-Encoding: chunked`` body, decoded a chunk at a time (streamed on)."""
        while True:
            size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            while size:
                block = self.rfile.read(min(size, 1 << 20))
                if not block:
                    return
                size -= len(block)
                yield block
            self.rfile.readline(3)

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(3)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        scheme, host, port, path = self._target()
        default_port = 443 if scheme == "https" else 80
        netloc = host if port == default_port else f"{host}:{port}"
        url = f"{scheme}://{netloc}{path}"
        if self.server.aws_upstream and (
            is_aws_host(host) or netloc == urlsplit(self.server.aws_upstream).netloc
        ):
            self._forward_to_aws(netloc)
            return
        body = self._body()
        del body  # never sent anywhere
        stub = self.server.find_stub(url, host)
        if stub is not None:
            status, headers, data = stub.answer()
            action, forced = "stub", stub.source
        else:
            status, headers, data = (
                403,
                {"Content-Type": "text/plain; charset=utf-8"},
                (
                    f"motobox denied egress to {host}: no stub in the scenario "
                    "(add an egress: entry to allow it)\n"
                ).encode(),
            )
            action, forced = "deny", None
        self._reply(status, headers, data)
        self.server.journal.append(
            {
                "kind": "egress",
                "method": self.command,
                "url": url,
                "status": status,
                "action": action,
                "forced": forced,
            }
        )

    def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response_only(status, http.client.responses.get(status, ""))
        for k, v in headers.items():
            if k.lower() not in HOP_HEADERS and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _forward_to_aws(self, netloc: str) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        headers["Host"] = netloc
        length = self.headers.get("Content-Length")
        body: Any
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if chunked:  # streamed on as it comes (S3 uploads over HTTPS are aws-chunked)
            body = self._chunks()
            headers["Transfer-Encoding"] = "chunked"
        elif length:
            body = _Limited(self.rfile, int(length))  # streamed, not held in memory
        else:
            body = None
        try:
            resp = self.server.upstream_request(
                self.command, self.path_for_upstream(), body, headers, chunked=chunked
            )
        except (OSError, http.client.HTTPException) as exc:
            self._reply(502, {}, f"motobox: the mock did not answer: {exc}\n".encode())
            return
        self.send_response_only(resp.status, resp.reason)
        chunked_answer = False
        for k, v in resp.getheaders():
            if k.lower() not in HOP_HEADERS:
                self.send_header(k, v)
        if resp.getheader("Content-Length") is None and self.command != "HEAD":
            self.send_header("Transfer-Encoding", "chunked")
            chunked_answer = True
        self.end_headers()
        if self.command == "HEAD":
            resp.read()
            return
        for block in iter(lambda: resp.read(1 << 20), b""):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked_answer else block)
        if chunked_answer:
            self.wfile.write(b"0\r\n\r\n")

    def path_for_upstream(self) -> str:
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return self.path

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve


class _Limited:
    """Reads at most ``n`` bytes from ``stream``: a request body handed on without copying."""

    def __init__(self, stream: Any, n: int) -> None:
        self._stream, self._left = stream, n

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        data = self._stream.read(size)
        self._left -= len(data)
        return bytes(data)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, owner: EgressProxy, address: tuple[str, int]) -> None:
        self.owner = owner
        self.ca = owner.ca
        self.journal = owner.journal
        self.aws_upstream = owner.aws_upstream
        self._local = threading.local()
        super().__init__(address, _Handler)

    def find_stub(self, url: str, host: str) -> Stub | None:
        stubs = self.owner.stubs
        return next((s for s in stubs if s.url is not None and s.matches(url, host)), None) or next(
            (s for s in stubs if s.url is None and s.matches(url, host)), None
        )

    def upstream_request(
        self, method: str, path: str, body: Any, headers: dict[str, str], *, chunked: bool = False
    ) -> http.client.HTTPResponse:
        assert self.aws_upstream
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                parts = urlsplit(self.aws_upstream)
                if parts.scheme == "https":
                    conn = http.client.HTTPSConnection(
                        parts.hostname or "127.0.0.1",
                        parts.port or 443,
                        context=self.owner.upstream_ssl_context,
                        timeout=300,
                    )
                else:
                    conn = http.client.HTTPConnection(
                        parts.hostname or "127.0.0.1", parts.port or 80, timeout=300
                    )
                self._local.conn = conn
            try:
                conn.request(method, path, body=body, headers=headers, encode_chunked=chunked)
                return conn.getresponse()
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 2 or not isinstance(body, bytes | None):  # a stream is spent
                    raise
        raise AssertionError("unreachable")

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError, OSError)):
            return
        super().handle_error(request, client_address)


class EgressProxy:
    """The program's HTTP(S) proxy. ``start()`` returns when it listens."""

    def __init__(
        self,
        ca: CertificateAuthority,
        journal: Journal,
        *,
        aws_upstream: str | None,
        upstream_ssl_context: ssl.SSLContext | None = None,
        stubs: Sequence[Stub] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.ca = ca
        self.journal = journal
        self.aws_upstream = aws_upstream
        self.upstream_ssl_context = upstream_ssl_context
        self.stubs: list[Stub] = list(stubs)
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def add_stub(self, stub: Stub) -> None:
        self.stubs.append(stub)

    def start(self) -> None:
        self._server = _Server(self, self._address)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.name = f"motobox-egress-{self.port}"
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            from motobox.transport.server import stop_serving

            stop_serving(self._server)
            self._server.server_close()
            self._server = None
        if self._thread:
            self._thread.join(5)
            self._thread = None

    @property
    def port(self) -> int:
        assert self._server, "the proxy is not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def process_request(self, conn: socket.socket, addr: Any) -> None:
        """Serve a connection accepted elsewhere (a sealed run's namespace) as a proxy one."""
        assert self._server, "the proxy is not started"
        self._server.process_request(conn, addr)

    def handle_connection(
        self, sock: socket.socket, *, tls_hostname: str | None = None, port: int = 80
    ) -> None:
        """Serve HTTP requests arriving directly on ``sock`` (not through the proxy), in a
        thread of their own; with ``port == 443`` the connection speaks TLS first."""
        assert self._server, "the proxy is not started"
        server = self._server
        scheme = "https" if port == 443 else "http"

        def serve() -> None:
            conn = sock
            try:
                if scheme == "https":
                    conn = self.ca.sni_context(tls_hostname or "localhost").wrap_socket(
                        sock, server_side=True
                    )
                handler_cls = type("_Direct", (_Handler,), {"origin": (scheme, "", port)})
                handler_cls(conn, ("127.0.0.1", 0), server)
            except (OSError, ssl.SSLError):
                pass
            finally:
                try:
                    conn.close()
                except OSError:
                    pass

        threading.Thread(target=serve, daemon=True, name="motobox-direct").start()
