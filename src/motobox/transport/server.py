"""A small threaded HTTP/1.1 WSGI server with keep-alive, for the embedded cloud.

Why not an existing server: werkzeug's development server (what ``moto_server`` runs) always
answers ``Connection: close`` (see ``werkzeug/serving.py``: "Always close the connection"), so
every SDK call pays a new TCP connection; and motobox needs to hand the server sockets that
were accepted elsewhere (inside a sealed program's network namespace) and TLS with a per-run
CA. The standard library's ``http.server`` parses the request; this module adds the WSGI
environ (keeping the original spelling of headers with underscores, as moto's own request
handler does, for S3 metadata), request bodies with ``Content-Length`` or chunked encoding,
and answers with ``Content-Length`` or chunked encoding so the connection stays open.

Data flow: accept -> (TLS handshake in the connection's thread) -> ``_Handler`` parses one
request at a time -> ``app(environ, start_response)`` -> the answer is written -> next request
on the same connection until the client closes it or sends ``Connection: close``.
"""

from __future__ import annotations

import http.client
import io
import itertools
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Bodies up to this size are read into memory; larger ones are spooled to a temporary file.
SPOOL_LIMIT = 8 * 1024 * 1024
#: Answers up to this size go out in one write with their headers (one segment, one wakeup).
ONE_WRITE_LIMIT = 256 * 1024
_MAX_LINE = 65536
_MAX_HEADERS = 100


class _ChunkedReader(io.RawIOBase):
    """Decodes a ``Transfer-Encoding: chunked`` request body from ``rfile``."""

    def __init__(self, rfile: Any) -> None:
        self._rfile = rfile
        self._left = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._done:
            return 0
        if self._left == 0:
            line = self._rfile.readline(65537)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self._rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                self._done = True
                return 0
            self._left = size
        n = min(len(buffer), self._left)
        data = self._rfile.read(n)
        buffer[: len(data)] = data
        self._left -= len(data)
        if self._left == 0:
            self._rfile.readline(3)  # CRLF after the chunk
        return len(data)


def _read_body(handler: BaseHTTPRequestHandler) -> tuple[io.IOBase, int]:
    """The request body as a seekable file, and its length."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        source: Any = io.BufferedReader(_ChunkedReader(handler.rfile))
        length = None
    else:
        length = int(handler.headers.get("Content-Length") or 0)
        if length <= SPOOL_LIMIT:
            return io.BytesIO(handler.rfile.read(length) if length else b""), length
        source = handler.rfile
    spool: Any = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115 - returned
    total = 0
    while length is None or total < length:
        want = 1 << 20 if length is None else min(1 << 20, length - total)
        block = source.read(want)
        if not block:
            break
        spool.write(block)
        total += len(block)
    spool.seek(0)
    return spool, total


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: WSGIServer

    # Quiet: the journal is the log.
    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        ctx = self.server.ssl_context
        if ctx is not None:
            self.request.settimeout(10)
            try:
                self.request = ctx.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                self.request.close()
                raise
        self.request.settimeout(self.server.idle_timeout)
        super().setup()

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, ConnectionError, ssl.SSLError, OSError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        if self.headers.get("Expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body, length = _read_body(self)
        environ = self._environ(body, length)
        self._respond(environ)

    def parse_request(self) -> bool:
        """The request line and headers, as ``http.server`` parses them, with a plain header
        reader: the standard library runs every request's headers through the ``email``
        package's parser (about 30 us of a 2 ms SDK call, DESIGN.md "Where plain moto spends
        its time"); SDK requests need none of its MIME machinery. Obsolete line folding is
        refused, as RFC 9112 allows."""
        self.command = None  # type: ignore[assignment]
        self.request_version = "HTTP/1.0"  # errors about the request line get a status line
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request line ({self.requestline!r})")
            return False
        self.command, self.path, self.request_version = words
        headers = http.client.HTTPMessage()
        while True:
            line = self.rfile.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, sep, value = line.decode("iso-8859-1").partition(":")
            if not sep or not name or name[0] in " \t" or name != name.rstrip():
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad header line ({line[:80]!r})")
                return False
            if len(headers) >= _MAX_HEADERS:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
                return False
            headers[name] = value.strip()
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        return True

    def _environ(self, body: io.IOBase, length: int) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        if path.startswith(("http://", "https://")):  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        server = self.server
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "RAW_URI": self.path,
            "REQUEST_URI": self.path,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(length),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "SERVER_NAME": server.server_address[0],
            "SERVER_PORT": str(server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0] if self.client_address else "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if server.ssl_context else "http",
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        preserved: dict[str, str] = {}
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            # The body is already read (and de-chunked): CONTENT_LENGTH says how long it is.
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"):
                continue
            if "_" in name:
                # Keep S3 metadata keys with underscores, the way moto's handler does.
                if not should_preserve_original_header_name(name):
                    continue
                key = environ_key_for_header(name)
                preserved.setdefault(key, name)
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved
        return environ

    def _respond(self, environ: dict[str, Any]) -> None:
        state: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info and state.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, headers
            return lambda data: None

        try:
            result = self.server.app(environ, start_response)
        except Exception as exc:  # a bug below us must not kill the connection silently
            body = f"motobox: internal error: {type(exc).__name__}: {exc}".encode()
            self._write_answer("500 Internal Server Error", [("Content-Type", "text/plain")], body)
            return
        try:
            self._write_result(state, result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()

    def _head(self, status: str, headers: list[tuple[str, str]], body: bytes | None) -> bytes:
        """The status line and headers; ``Transfer-Encoding: chunked`` when the length is not
        known (``body`` None) and the answer has a body."""
        names = {k.lower() for k, _ in headers}
        out = [f"HTTP/1.1 {status}\r\n"]
        for k, v in headers:
            if k.lower() in ("connection", "transfer-encoding"):
                continue
            out.append(f"{k}: {v}\r\n")
        if "content-length" not in names:
            if body is not None:
                out.append(f"Content-Length: {len(body)}\r\n")
            elif self._has_body(status):
                out.append("Transfer-Encoding: chunked\r\n")
        if self.close_connection:
            out.append("Connection: close\r\n")
        out.append("\r\n")
        return "".join(out).encode("latin-1")

    def _has_body(self, status: str) -> bool:
        return self.command != "HEAD" and not status.startswith(("204", "304"))

    def _write_answer(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """Head and body of an answer whose length is known; small ones in one write, so the
        client gets one segment and wakes once (the answer of almost every SDK call)."""
        head = self._head(status, headers, body)
        if self.command == "HEAD":
            self.wfile.write(head)
        elif len(body) <= ONE_WRITE_LIMIT:
            self.wfile.write(head + body)
        else:
            self.wfile.write(head)
            self.wfile.write(body)

    def _write_result(self, state: dict[str, Any], result: Iterable[bytes]) -> None:
        if isinstance(result, list) and len(result) <= 1:
            self._write_answer(state["status"], state["headers"], result[0] if result else b"")
            return
        chunks = iter(result)
        first = next(chunks, b"")  # the app calls start_response before its first chunk
        status, headers = state["status"], state["headers"]
        head = self._head(status, headers, None)
        chunked = self._has_body(status) and not any(
            k.lower() == "content-length" for k, _ in headers
        )
        write = self.wfile.write
        write(head)
        if self.command == "HEAD":
            return
        if not chunked:
            write(first)
            for data in chunks:
                write(data)
            return
        for data in itertools.chain((first,), chunks):
            if data:
                write(b"%x\r\n%s\r\n" % (len(data), data))
        write(b"0\r\n\r\n")


class WSGIServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """Serves a WSGI app on a loopback port, one thread per connection, keep-alive."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    idle_timeout = 120.0

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.ssl_context = ssl_context
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-answer is not motobox's error; stay quiet.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError, OSError)):
            return
        super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_socket(self, sock: socket.socket, address: Any = ("127.0.0.1", 0)) -> None:
        """Serve a connection accepted elsewhere (e.g. inside a sealed network namespace)."""
        self.process_request(sock, address)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.name = f"motobox-server-{self.port}"
        self._thread.start()

    def stop(self) -> None:
        if self._thread:
            stop_serving(self)
            self._thread.join(5)
            self._thread = None
        self.server_close()


def stop_serving(server: socketserver.BaseServer) -> None:
    """``server.shutdown()`` without waiting out ``serve_forever``'s poll interval: shutting
    the listening socket down wakes its ``select`` at once (a cloud stopped in ~1 ms, not
    ~0.2 s per server; every ``motobox run`` and every test's cloud pays it)."""
    waiter = threading.Thread(target=server.shutdown, daemon=True)
    waiter.start()
    listener = getattr(server, "socket", None)
    while waiter.is_alive():
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                listener = None  # not connected/listening any more: the poll interval will do
        waiter.join(0.01)
