"""One HTTP/1.1 layer for everything motobox serves and forwards, framed by h11.

    socket --h11--> Request(method, target, headers, body, scheme, origin)
                      heads, Content-Length and chunked bodies (strict sizes, trailers),
                      Expect: 100-continue (answered when the handler first reads the body)
    handler(Request) -> Response(status, headers, body)  written by h11: Content-Length or
                      chunked, a small answer's head and body in one write (one segment, one
                      wake-up of the client)
                     -> Tunnel(run)                       CONNECT: "200 Connection established",
                      then ``run(socket, bytes_already_read)`` owns the connection
                     -> Response(..., delivery=Delivery)  a test's transport fault: the
                      connection reset (RST), held without an answer (``hang``), the body cut
                      after N bytes and the connection closed (``truncate``), the body paced to
                      N bytes a second (``rate``); ``Delivery.done`` is told what the client got
    keep-alive: the next request on the same connection, until a side closes or the idle
    timeout passes

``Server`` accepts on a loopback port and serves each connection in a thread of its own;
``serve_socket`` serves a connection accepted elsewhere (a sealed run's namespace hands its
sockets over that way). ``stop`` shuts every connection down through a duplicate of its
descriptor (TLS wrapping detaches the socket object first accepted, so that object cannot end a
tunnel or a ``--tls`` connection) and waits a bounded while for their threads, so that what a
held (``hang``) connection journals when it ends is written before the journal closes.
``Client`` is the one upstream client (``--backend URL``): one kept-alive connection per thread.

Faults live here, below every handler, because only this layer owns the socket: the gateway
(``aws.gateway``) and the egress control (``sandbox.egress``) decide a fault and describe it in
``Delivery``; the same code then delivers it on the cloud's port, inside a proxy tunnel and on a
sealed run's 80/443, with or without TLS.

Why h11: every framing rule (chunk sizes, hop-by-hop headers, 100-continue, HEAD and 204
answers, CONNECT) in one maintained library instead of four hand-written decoders, which is
how a negative chunk size and a doubled ``Host`` once got in. Headers stay a list in the order
and spelling they came (``Headers``): S3 metadata names keep their underscores and case, and a
header is never added twice because nothing copies one list into another. h11 costs ~50 us a
request/answer cycle (measured on this machine: 72 us with the other core busy).
"""

from __future__ import annotations

import io
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import h11

#: Hop-by-hop fields (RFC 9110 7.6.1): they describe one connection, never passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: Answers up to this size go out in one write with their head.
ONE_WRITE_LIMIT = 256 * 1024
#: The largest request head accepted, and the most fields in it (h11's default size is 16 KiB;
#: SDK heads with long presigned query strings and S3 metadata stay well below these).
MAX_HEAD = 64 * 1024
MAX_FIELDS = 100
RECV = 65536
IDLE_TIMEOUT = 120.0


class Headers:
    """Header fields: a case-insensitive multimap that keeps their order and spelling."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(str(k), str(v)) for k, v in items]

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self._items:
            if key.lower() == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self._items if k.lower() == name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def add(self, name: str, value: str) -> None:
        self._items.append((name, str(value)))

    def set(self, name: str, value: str) -> None:
        """Replace every field called ``name`` with one."""
        self.remove(name)
        self._items.append((name, str(value)))

    def remove(self, name: str) -> None:
        name = name.lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != name]

    def without_hop_by_hop(self) -> Headers:
        """These fields less the hop-by-hop ones and those ``Connection`` names."""
        named = {
            token.strip().lower()
            for value in self.get_all("connection")
            for token in value.split(",")
            if token.strip()
        }
        return Headers(
            (k, v) for k, v in self._items if k.lower() not in HOP_BY_HOP and k.lower() not in named
        )


class BodyError(Exception):
    """A request body that cannot be read: the client went away or broke the framing."""


@dataclass
class Request:
    """One request as it arrived. ``body`` reads the request's content (de-chunked)."""

    method: str
    target: str
    headers: Headers
    body: io.RawIOBase
    #: The scheme the program used: ``https`` inside TLS (a tunnel, port 443, ``--tls``).
    scheme: str = "http"
    http_version: str = "1.1"
    peer: tuple[str, int] = ("127.0.0.1", 0)
    #: (host, port) of the origin the connection was opened for (a CONNECT tunnel, a sealed
    #: run's 80/443), when known; the ``Host`` field names it otherwise.
    origin: tuple[str, int] | None = None
    #: The local (address, port) the connection arrived on.
    local: tuple[str, int] = ("127.0.0.1", 0)

    @property
    def absolute(self) -> bool:
        return self.target.startswith(("http://", "https://"))

    @property
    def authority(self) -> str:
        """``host[:port]`` the request is for: the absolute URI's, else ``Host``'s, else the
        tunnel's origin."""
        if self.absolute:
            return urlsplit(self.target).netloc
        host = self.headers.get("host")
        if host:
            return host
        if self.origin:
            name, port = self.origin
            return name if port == default_port(self.scheme) else f"{name}:{port}"
        return ""

    @property
    def host(self) -> str:
        """The host name alone, lower case, without port or trailing dot."""
        return split_authority(self.authority, default_port(self.url_scheme))[0]

    @property
    def url_scheme(self) -> str:
        return urlsplit(self.target).scheme if self.absolute else self.scheme

    @property
    def path_and_query(self) -> str:
        if self.absolute:
            parts = urlsplit(self.target)
            return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return self.target

    def url(self) -> str:
        return f"{self.url_scheme}://{self.authority}{self.path_and_query}"


@dataclass
class Delivery:
    """How an answer reaches the client when a test wants the transport to fail.

    ``reset``: no answer; the connection is closed with a TCP reset. ``hang``: no answer; the
    connection is held until the client closes it or the server stops. ``truncate``: the head
    and this many bytes of the body, then the connection is closed (FIN), the body short of
    its ``Content-Length``. ``rate``: the body is written at this many bytes a second.
    ``done(report)`` is called once, when the delivery ends, with what the client got:
    ``head`` (the status line and header fields went out), ``sent`` (body bytes written),
    ``length`` (the body's length), ``complete`` (the whole answer went out), ``reset``."""

    reset: bool = False
    hang: bool = False
    truncate: int | None = None
    rate: float | None = None
    done: Callable[[dict[str, Any]], None] | None = None


@dataclass
class Response:
    """An answer. ``body``: bytes, or an iterable of bytes (written as it comes)."""

    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes | Iterable[bytes] = b""
    #: Called once the answer is written (or the connection is lost), e.g. a WSGI result's
    #: ``close``.
    on_close: Callable[[], None] | None = None
    #: A transport fault to deliver instead of a plain answer (``Delivery``).
    delivery: Delivery | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            self.headers = Headers(self.headers)


@dataclass
class Tunnel:
    """The answer to a CONNECT: after "200 Connection established" ``run(sock, pending)``
    owns the connection (``pending``: bytes the client sent after its CONNECT)."""

    run: Callable[[socket.socket, bytes], None]


Handler = Callable[[Request], "Response | Tunnel"]


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def split_authority(authority: str, default: int) -> tuple[str, int]:
    """``"host:port"`` (IPv6 in brackets) -> (host lower case without trailing dot, port)."""
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else default
        return host.lower(), port
    host, sep, digits = authority.rpartition(":")
    if sep and digits.isdigit() and ":" not in host:
        return host.lower().rstrip("."), int(digits)
    return authority.lower().rstrip("."), default


def reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


# -- the server side of one connection ---------------------------------------------------


class _Connection:
    """h11's server state for one socket, and the socket."""

    def __init__(self, sock: socket.socket, pending: bytes = b"") -> None:
        self.sock = sock
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        if pending:
            self.h11.receive_data(pending)

    def next_event(self) -> Any:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            if self.h11.they_are_waiting_for_100_continue:
                # With its reason: botocore's 100-continue check wants three words on the line.
                go_on = h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
                self.sock.sendall(self.h11.send(go_on) or b"")
            self.h11.receive_data(self.sock.recv(RECV))

    def write(self, *events: Any) -> None:
        data = bytearray()
        for event in events:
            for piece in self.h11.send_with_data_passthrough(event) or ():
                if len(piece) > ONE_WRITE_LIMIT:
                    if data:
                        self.sock.sendall(data)
                        data = bytearray()
                    self.sock.sendall(piece)
                else:
                    data += piece
        if data:
            self.sock.sendall(data)


class _BodyReader(io.RawIOBase):
    """The current request's body, read from h11 events as the handler asks for it.

    ``read(n)`` hands on h11's own data buffers (no per-request buffer of our own: an SDK
    call's body is one ``Data`` event, read once)."""

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn
        self._pending = memoryview(b"")
        self.done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        if not self._pending and not self._fill():
            return b""
        data = self._pending[:size]
        self._pending = self._pending[len(data) :]
        if len(data) < size and not self._pending:  # more may be in the next events
            rest = self.read(size - len(data)) if not self.done else b""
            return bytes(data) + rest
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        if not self._pending and not self._fill():
            return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _fill(self) -> bool:
        """Wait for the next piece of the body; False at its end."""
        while not self._pending:
            if self.done:
                return False
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise BodyError(f"bad request body: {exc}") from None
            except OSError as exc:
                raise BodyError(f"the client went away: {exc}") from None
            if isinstance(event, h11.Data):
                self._pending = memoryview(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.done = True
            elif isinstance(event, h11.ConnectionClosed):
                raise BodyError("the client closed the connection before the body ended")
        return True

    def drain(self, limit: int = 1 << 20) -> bool:
        """Read what is left of the body, up to ``limit`` bytes; whether it all came."""
        seen = 0
        while not self.done and seen <= limit:
            block = self.read(RECV)
            if not block:
                break
            seen += len(block)
        return self.done


def _text_answer(status: int, text: str) -> Response:
    return Response(status, Headers([("Content-Type", "text/plain; charset=utf-8")]), text.encode())


def serve_connection(
    sock: socket.socket,
    handler: Handler,
    *,
    scheme: str = "http",
    origin: tuple[str, int] | None = None,
    pending: bytes = b"",
    idle_timeout: float = IDLE_TIMEOUT,
) -> None:
    """Serve requests on ``sock`` until either side closes it; closes it."""
    try:
        sock.settimeout(idle_timeout)
        peer = local = ("127.0.0.1", 0)
        try:
            if sock.family in (socket.AF_INET, socket.AF_INET6):  # a Unix socket has no port
                peer, local = sock.getpeername()[:2], sock.getsockname()[:2]
        except OSError:
            pass
        conn = _Connection(sock, pending)
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                _refuse(conn, exc)
                return
            if not isinstance(event, h11.Request):
                return  # ConnectionClosed, or a client that sent nothing more
            if event.http_version not in (b"1.0", b"1.1"):
                _refuse(conn, h11.RemoteProtocolError("only HTTP/1.0 and 1.1 are spoken", 505))
                return
            if len(event.headers) > MAX_FIELDS:
                _refuse(conn, h11.RemoteProtocolError("too many header fields", 431))
                return
            reader = _BodyReader(conn)
            request = Request(
                method=event.method.decode("ascii"),
                target=event.target.decode("iso-8859-1"),
                headers=Headers(
                    (k.decode("iso-8859-1"), v.decode("iso-8859-1"))
                    for k, v in event.headers.raw_items()
                ),
                body=reader,
                scheme=scheme,
                http_version=event.http_version.decode("ascii"),
                peer=peer,
                origin=origin,
                local=local,
            )
            try:
                answer = handler(request)
            except BodyError:
                return  # the client broke the body or went away: nobody to answer
            except Exception as exc:  # a bug below must not kill the connection silently
                answer = _text_answer(500, f"motobox: internal error: {type(exc).__name__}: {exc}")
            if isinstance(answer, Tunnel):
                conn.write(
                    h11.Response(status_code=200, headers=[], reason=b"Connection established")
                )
                data, _ = conn.h11.trailing_data
                answer.run(sock, bytes(data))
                return
            if not reader.done and not reader.drain():
                answer.headers.set("Connection", "close")  # too much left to read: give up
            if answer.delivery is not None:
                try:
                    kept = _deliver(conn, request.method, answer, answer.delivery)
                finally:
                    if answer.on_close is not None:
                        answer.on_close()
                if not kept:
                    return
            else:
                try:
                    _send(conn, request.method, answer)
                finally:
                    if answer.on_close is not None:
                        answer.on_close()
            if conn.h11.our_state is not h11.DONE or conn.h11.their_state is not h11.DONE:
                return
            conn.h11.start_next_cycle()
    except (OSError, ssl.SSLError, h11.LocalProtocolError, BodyError):
        return
    finally:
        try:
            sock.close()
        except OSError:
            pass


def _refuse(conn: _Connection, exc: h11.RemoteProtocolError) -> None:
    """Answer a request h11 could not read with its status (400, 431...) and one line."""
    if conn.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    answer = _text_answer(exc.error_status_hint, f"motobox: bad request: {exc}\n")
    answer.headers.set("Connection", "close")
    try:
        _send(conn, "GET", answer)
        _linger(conn.sock)
    except (OSError, h11.LocalProtocolError):
        pass


def _linger(sock: socket.socket, seconds: float = 1.0, limit: int = 1 << 20) -> None:
    """Close our side and read what the client is still sending (a bounded while) before the
    socket is closed: closing with unread data makes the kernel reset the connection, and the
    client would lose the answer it was sent."""
    sock.shutdown(socket.SHUT_WR)
    sock.settimeout(seconds)
    seen = 0
    while seen < limit:
        data = sock.recv(RECV)
        if not data:
            return
        seen += len(data)


def _head_fields(answer: Response, length: int | None) -> list[tuple[bytes, bytes]]:
    """The answer's header fields as h11 takes them, in one pass: hop-by-hop ones dropped
    (``Connection: close`` kept), ``Content-Length`` added when ``length`` is known and the
    answer has none (for HEAD: the length a GET would get)."""
    fields = []
    has_length = close = False
    named: set[str] = set()
    for name, value in answer.headers:
        lower = name.lower()
        if lower == "connection":
            close = close or value.strip().lower() == "close"
            named.update(t.strip().lower() for t in value.split(","))
            continue
        if lower in HOP_BY_HOP:
            continue
        has_length = has_length or lower == "content-length"
        fields.append((lower, name, value))
    out = [
        (n.encode("latin-1"), v.encode("latin-1")) for lower, n, v in fields if lower not in named
    ]
    if close:
        out.append((b"Connection", b"close"))
    if length is not None and not has_length:
        out.append((b"Content-Length", str(length).encode()))
    return out


def _send(conn: _Connection, method: str, answer: Response) -> None:
    body = answer.body
    if isinstance(body, bytes | bytearray | memoryview):
        head = h11.Response(
            status_code=answer.status,
            headers=_head_fields(answer, len(body)),
            reason=reason(answer.status),
        )
        if body and method != "HEAD" and answer.status not in (204, 304):
            conn.write(head, h11.Data(data=bytes(body)), h11.EndOfMessage())
        else:
            conn.write(head, h11.EndOfMessage())
        return
    conn.write(
        h11.Response(
            status_code=answer.status,
            headers=_head_fields(answer, None),
            reason=reason(answer.status),
        )
    )
    for chunk in body:
        if chunk and method != "HEAD":
            conn.write(h11.Data(data=chunk))
    conn.write(h11.EndOfMessage())


def _deliver(conn: _Connection, method: str, answer: Response, delivery: Delivery) -> bool:
    """Deliver ``answer`` the way ``delivery`` says; whether the connection can serve another
    request. ``delivery.done`` learns what the client got just before the client can tell
    (before the reset, before the hold, before the close after a cut body, before the last
    slice of a paced one), so a test that asserts on the journal once its client returns
    finds the record; if the delivery breaks earlier, when it breaks."""
    body = answer.body
    if not isinstance(body, bytes | bytearray | memoryview):
        body = b"".join(body)
    body = bytes(body)
    has_body = bool(body) and method != "HEAD" and answer.status not in (204, 304)
    report: dict[str, Any] = {
        "head": False,
        "sent": 0,
        "length": len(body),
        "complete": False,
        "reset": False,
    }
    told = False

    def tell() -> None:
        nonlocal told
        if not told and delivery.done is not None:
            told = True
            delivery.done(dict(report))

    try:
        if delivery.reset:
            report["reset"] = True
            tell()
            _reset(conn.sock)
            return False
        if delivery.hang:
            tell()
            _hold(conn.sock)
            return False
        headers = answer.headers.without_hop_by_hop()
        if method != "HEAD" or "content-length" not in headers:
            headers.set("Content-Length", str(len(body)))
        conn.write(
            h11.Response(
                status_code=answer.status,
                headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
                reason=reason(answer.status),
            )
        )
        report["head"] = True
        limit = len(body) if delivery.truncate is None else min(len(body), delivery.truncate)
        data = body[:limit] if has_body else b""
        if has_body and limit < len(body):
            _paced(conn, data, delivery.rate, report)
            tell()
            conn.sock.shutdown(socket.SHUT_WR)  # the body ends short of its Content-Length
            return False
        last = _paced(conn, data, delivery.rate, report, hold_last=True)
        report["sent"] += len(last)
        report["complete"] = True
        tell()
        if last:
            conn.write(h11.Data(data=last))
        conn.write(h11.EndOfMessage())
        return True
    except (OSError, h11.LocalProtocolError):
        report["complete"] = False
        return False
    finally:
        tell()


def _paced(
    conn: _Connection,
    data: bytes,
    rate: float | None,
    report: dict[str, Any],
    *,
    hold_last: bool = False,
) -> bytes:
    """Write body bytes, at ``rate`` bytes a second when given: slices of a 20th of a second,
    each written once the time its bytes take at that rate has passed (the last byte goes out
    ``len / rate`` seconds after the head), counting what went out in ``report["sent"]``.
    With ``hold_last``, the last slice (all of it without a rate) is returned unwritten, its
    time waited."""
    step = max(1, int(rate / 20)) if rate else max(1, len(data))
    started = time.monotonic()
    for offset in range(0, len(data), step):
        piece = data[offset : offset + step]
        if rate:
            wait = started + (offset + len(piece)) / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        if hold_last and offset + step >= len(data):
            return piece
        conn.write(h11.Data(data=piece))
        report["sent"] += len(piece)
    return b""


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP reset (SO_LINGER 0), as a peer that crashed or a middlebox
    that dropped the connection does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _hold(sock: socket.socket) -> None:
    """Say nothing until the client closes the connection (what it sends is dropped) or the
    server shuts it down (``Server.stop``)."""
    sock.settimeout(None)
    while True:
        try:
            if not sock.recv(RECV):
                return
        except (OSError, ValueError):
            return


# -- listening -----------------------------------------------------------------------------


class Server:
    """Accepts on ``host:port`` and serves each connection in a thread (``serve_connection``).

    ``serve_socket`` serves a connection accepted elsewhere the same way; ``stop`` closes the
    listener and every connection still open, at once."""

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
        name: str = "motobox-http",
    ) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.name = name
        self._listener = socket.create_server((host, port), backlog=512, reuse_port=False)
        self._listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        bound = self._listener.getsockname()[:2]
        self._address = (str(bound[0]), int(bound[1]))
        #: Each open connection's thread, and a duplicate of its descriptor that ``stop`` shuts
        #: down (the socket object first accepted is detached once TLS wraps it).
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._address
        return str(host), int(port)

    @property
    def port(self) -> int:
        return self.address[1]

    def start(self) -> Server:
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.name = f"{self.name}-{self.port}"
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.serve_socket(sock)

    def serve_socket(self, sock: socket.socket, _address: Any = None) -> None:
        """Serve ``sock`` (accepted here or elsewhere) in a thread of its own."""
        self.serve_socket_with(sock, self._serve)

    def serve_socket_with(self, sock: socket.socket, run: Callable[[socket.socket], None]) -> None:
        """``run(sock)`` in a thread of its own; ``stop`` ends the connection too."""
        threading.Thread(
            target=self._tracked,
            args=(sock, run),
            daemon=True,
            name=f"{self.name}-{self.port}-connection",
        ).start()

    def _tracked(self, sock: socket.socket, run: Callable[[socket.socket], None]) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        me = threading.current_thread()
        with self._lock:
            if self._stopping:
                sock.close()
                return
            try:
                self._connections[me] = sock.dup()
            except OSError:
                sock.close()
                return
        try:
            run(sock)
        finally:
            try:
                sock.close()
            except OSError:
                pass
            with self._lock:
                dup = self._connections.pop(me, None)
            if dup is not None:  # the last descriptor: the FIN (or a reset's RST) goes out now
                dup.close()

    def _serve(self, sock: socket.socket) -> None:
        if self.ssl_context is None:
            serve_connection(sock, self.handler)
            return
        sock.settimeout(10)
        try:
            conn = self.ssl_context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            return
        serve_connection(conn, self.handler, scheme="https")

    def stop(self, wait: float = 2.0) -> None:
        """Close the listener and every connection; wait up to ``wait`` seconds for the
        connections' threads to end (a held connection journals what it did as it ends)."""
        with self._lock:
            self._stopping = True
            connections = list(self._connections.items())
            for _, dup in connections:
                try:
                    dup.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked on the connection
                except OSError:
                    pass
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept at once
        except OSError:
            pass
        self._listener.close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        deadline = time.monotonic() + wait
        for thread, _ in connections:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))


# -- the upstream client -------------------------------------------------------------------


@dataclass
class ClientResponse:
    status: int
    headers: Headers
    body: bytes


class Client:
    """Requests to one origin (``http(s)://host:port``), one kept-alive connection per
    thread; a request on a connection the origin closed meanwhile is sent again once."""

    def __init__(
        self, url: str, *, ssl_context: ssl.SSLContext | None = None, timeout: float = 300
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or default_port(parts.scheme)
        self.ssl_context = ssl_context
        self.timeout = timeout
        self._local = threading.local()

    def _connect(self) -> tuple[socket.socket, h11.Connection]:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.scheme == "https":
            context = self.ssl_context or ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.host)
        return sock, h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)

    def request(
        self, method: str, target: str, headers: Headers, body: bytes | Any = b""
    ) -> ClientResponse:
        """Send one request (``body``: bytes, or a file read to its end) and read the whole
        answer. ``headers`` must carry ``Host``; ``Content-Length`` is set here."""
        for attempt in (1, 2):
            reused = getattr(self._local, "conn", None)
            sock, conn = reused or self._connect()
            self._local.conn = None
            try:
                answer = self._exchange(sock, conn, method, target, headers, body)
            except (OSError, h11.ProtocolError) as exc:
                sock.close()
                retry = reused is not None and attempt == 1 and _rewindable(body)
                if not retry:
                    raise ConnectionError(f"{self.host}:{self.port}: {exc}") from None
                continue
            if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                conn.start_next_cycle()
                self._local.conn = (sock, conn)
            else:
                sock.close()
            return answer
        raise AssertionError("unreachable")

    @staticmethod
    def _exchange(
        sock: socket.socket,
        conn: h11.Connection,
        method: str,
        target: str,
        headers: Headers,
        body: bytes | Any,
    ) -> ClientResponse:
        out = headers.without_hop_by_hop()
        out.remove("content-length")
        if isinstance(body, bytes | bytearray):
            length = len(body)
        else:
            body.seek(0, io.SEEK_END)
            length = body.tell()
            body.seek(0)
        out.add("Content-Length", str(length))
        data = conn.send(
            h11.Request(
                method=method,
                target=target,
                headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in out],
            )
        )
        sock.sendall(data or b"")
        if isinstance(body, bytes | bytearray):
            if body:
                data_event = h11.Data(data=bytes(body))
                sock.sendall(b"".join(conn.send_with_data_passthrough(data_event) or ()))
        else:
            for block in iter(lambda: body.read(1 << 20), b""):
                sock.sendall(b"".join(conn.send_with_data_passthrough(h11.Data(data=block)) or ()))
        sock.sendall(conn.send(h11.EndOfMessage()) or b"")
        response: h11.Response | None = None
        chunks: list[bytes] = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(RECV))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the origin closed the connection")
        assert response is not None
        return ClientResponse(
            response.status_code,
            Headers(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw_items()
            ),
            b"".join(chunks),
        )


def _rewindable(body: Any) -> bool:
    return isinstance(body, bytes | bytearray) or hasattr(body, "seek")
