"""One HTTP/1.1 layer for everything motobox serves and forwards, parsed by llhttp.

    socket --llhttp--> Request(method, target, headers, body, scheme, origin)
                      heads, Content-Length and chunked bodies (strict sizes; trailers read
                      and dropped), Expect: 100-continue (answered when the handler first
                      reads the body), pipelined requests answered in order
    handler(Request) -> Response(status, headers, body)  written here: Content-Length or
                      chunked, a small answer's head and body in one write (one segment, one
                      wake-up of the client)
                     -> Tunnel(run)                       CONNECT: "200 Connection established",
                      then ``run(socket, bytes_already_read)`` owns the connection
                     -> Response(..., delivery=Delivery)  a test's transport fault: the
                      connection reset (RST), held without an answer (``hang``), the body cut
                      after N bytes and the connection closed (``truncate``), the body paced to
                      N bytes a second (``rate``); ``Delivery.done`` is told what the client got
    keep-alive: the next request on the same connection, until a side closes, a side says
    ``Connection: close``, the request is HTTP/1.0, or the idle timeout passes

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

Why httptools (llhttp, Node.js's parser): every reading rule (chunk sizes, Content-Length
against Transfer-Encoding, header syntax, CONNECT) in one maintained parser instead of four
hand-written decoders, which is how a negative chunk size and a doubled ``Host`` once got in;
and it parses an SDK's head in ~2 us. h11 did the same job first and cost ~50 us a
request/answer cycle (its event state machine and per-field validation), which took 10% off
``make bench``'s throughput. What a parser does not do is here: the limits (``MAX_HEAD``,
``MAX_FIELDS``), one ``Host`` for HTTP/1.1, HTTP/1.0 never kept alive, and writing answers
(a status line and fields; a field that would split the answer is refused with a 500).
Headers stay a list in the order and spelling they came (``Headers``): S3 metadata names keep
their underscores and case, and a header is never added twice because nothing copies one list
into another.
"""

from __future__ import annotations

import functools
import io
import re
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httptools

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
#: The largest request head accepted, and the most fields in it (Node's default size is 16 KiB;
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

    @classmethod
    def adopt(cls, items: list[tuple[str, str]]) -> Headers:
        """Headers over ``items`` itself (str pairs, not copied: a parser's fresh list)."""
        headers = cls.__new__(cls)
        headers._items = items
        return headers

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


@functools.cache
def reason(status: int) -> bytes:
    """The reason phrase for ``status`` (every answer's status line: looked up once)."""
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


# -- the server side of one connection ---------------------------------------------------


class ProtocolError(Exception):
    """A request this layer cannot read, and the status its answer carries (400, 431, 505)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class _Head:
    """A request's line and header fields, as llhttp read them."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    hosts: int
    keep_alive: bool


#: The end of a request's body, and the client closing between requests (events).
_END = object()
_CLOSED = object()


class _Connection:
    """httptools' (llhttp's) request parser for one socket, read as events one at a time: a
    ``_Head``, body pieces (bytes), ``_END``; ``_CLOSED`` once the client has closed between
    requests. A request that cannot be read raises ``ProtocolError`` where its events stop.

    llhttp calls back as it parses (``on_url``, ``on_header``...); the events wait in a queue
    until the handler asks for them, so pipelined requests are answered in order. After a
    CONNECT nothing more is parsed: the bytes past its head are the tunnel's
    (``tunnel_data``)."""

    def __init__(self, sock: socket.socket, pending: bytes = b"") -> None:
        self.sock = sock
        self._parser = httptools.HttpRequestParser(self)
        self._events: deque[Any] = deque()
        self._url: list[bytes] = []
        self._fields: list[tuple[str, str]] = []
        self._head_size = 0
        self._hosts = 0
        self._expect = False
        self._last_head: _Head | None = None
        self._in_head = self._in_body = False
        #: Bytes fed while a head was incomplete (llhttp keeps a partial field to itself).
        self._unread_head = 0
        #: True after a CONNECT or an upgrade (or a request that could not be read): nothing
        #: more is parsed on this connection.
        self.stopped = False
        self.tunnel_data = b""
        #: The client sent ``Expect: 100-continue`` and has not been told to go on yet.
        self.waiting_for_continue = False
        if pending:
            self._feed(pending)

    # llhttp's callbacks
    def on_message_begin(self) -> None:
        self._in_head = True
        self._url, self._fields = [], []
        self._head_size = self._hosts = 0
        self._expect = False

    def on_url(self, piece: bytes) -> None:
        self._url.append(piece)
        self._grow(len(piece))

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._in_body:
            return  # a chunked body's trailer field: nothing reads them
        key = name.decode("latin-1")
        self._fields.append((key, value.decode("latin-1").rstrip(" \t")))  # llhttp keeps it
        if len(self._fields) > MAX_FIELDS:
            raise ProtocolError(f"more than {MAX_FIELDS} header fields", 431)
        self._grow(len(name) + len(value) + 4)
        if len(key) == 4 and key.lower() == "host":
            self._hosts += 1
        elif len(key) == 6 and key.lower() == "expect":
            self._expect = value.strip().lower() == b"100-continue"

    def _grow(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_HEAD:
            raise ProtocolError(f"the request's head is over {MAX_HEAD} bytes", 431)

    def on_headers_complete(self) -> None:
        parser = self._parser
        version = parser.get_http_version()
        self._last_head = _Head(
            parser.get_method().decode("ascii"),
            b"".join(self._url).decode("iso-8859-1"),
            version,
            self._fields,
            self._hosts,
            parser.should_keep_alive() and version == "1.1",
        )
        self._events.append(self._last_head)
        self._in_head, self._in_body = False, True
        self._unread_head = 0
        self.waiting_for_continue = self._expect and version == "1.1"

    def on_body(self, data: bytes) -> None:
        self.waiting_for_continue = False
        self._events.append(data)

    def on_message_complete(self) -> None:
        self._in_body = self.waiting_for_continue = False
        self._events.append(_END)

    def _feed(self, data: bytes) -> None:
        counted = not self._in_body
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:  # CONNECT, or Upgrade: the head is read
            self.stopped = True
            self.tunnel_data = data[exc.args[0] :]
            if self._last_head is not None:  # answered as a plain request, then closed
                self._last_head.keep_alive = False
        except httptools.HttpParserCallbackError as exc:  # raised by a callback above
            cause = exc.__context__
            self._fail(cause if isinstance(cause, ProtocolError) else ProtocolError(str(exc)))
        except httptools.HttpParserError as exc:
            self._fail(ProtocolError(str(exc) or type(exc).__name__))
        else:
            if self._in_head:
                self._unread_head += len(data) if counted else 0
                if self._unread_head > MAX_HEAD + RECV:
                    self._fail(ProtocolError(f"the request's head is over {MAX_HEAD} bytes", 431))

    def _fail(self, error: ProtocolError) -> None:
        self.stopped = True
        self._events.append(error)

    def next_event(self) -> Any:
        events = self._events
        while not events:
            if self.stopped:
                return _CLOSED
            if self.waiting_for_continue:
                # With its reason: botocore's 100-continue check wants three words on the line.
                self.waiting_for_continue = False
                self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            data = self.sock.recv(RECV)
            if not data:
                self.stopped = True
                if self._in_head or self._in_body:
                    self._fail(ProtocolError("the client closed the connection mid-request"))
                    continue
                return _CLOSED
            self._feed(data)
        event = events.popleft()
        if isinstance(event, ProtocolError):
            raise event
        return event


class _BodyReader(io.RawIOBase):
    """The current request's body, read from the connection's events as the handler asks.

    ``read(n)`` hands on llhttp's own pieces (no per-request buffer of ours: an SDK call's
    small body is one piece, read once)."""

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn
        self._pending = memoryview(b"")
        self.done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes, fewer only at the body's end (as a file's ``read``): the
        pieces are joined once, however many events they came in."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        pieces: list[memoryview] = []
        while size > 0 and (self._pending or self._fill()):
            data = self._pending[:size]
            self._pending = self._pending[len(data) :]
            pieces.append(data)
            size -= len(data)
        return bytes(pieces[0]) if len(pieces) == 1 else b"".join(pieces)

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
            except ProtocolError as exc:
                raise BodyError(f"bad request body: {exc}") from None
            except OSError as exc:
                raise BodyError(f"the client went away: {exc}") from None
            if event is _END:
                self.done = True
            elif event is _CLOSED:
                raise BodyError("the client closed the connection before the body ended")
            else:
                self._pending = memoryview(event)
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
                head = conn.next_event()
                if head is _CLOSED:
                    return
                if head.version not in ("1.0", "1.1"):
                    raise ProtocolError("only HTTP/1.0 and 1.1 are spoken", 505)
                if head.version == "1.1" and head.hosts != 1:
                    raise ProtocolError("an HTTP/1.1 request carries one Host field")
            except ProtocolError as exc:
                _refuse(conn, exc)
                return
            reader = _BodyReader(conn)
            request = Request(
                method=head.method,
                target=head.target,
                headers=Headers.adopt(head.headers),
                body=reader,
                scheme=scheme,
                http_version=head.version,
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
                sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                answer.run(sock, conn.tunnel_data)
                return
            keep = head.keep_alive
            if not reader.done and not reader.drain():
                keep = False  # too much left to read: give up
            if answer.delivery is not None:
                try:
                    keep = _deliver(conn, request.method, answer, answer.delivery) and keep
                finally:
                    if answer.on_close is not None:
                        answer.on_close()
            else:
                try:
                    keep = _send(conn, request.method, head.version, answer, keep)
                finally:
                    if answer.on_close is not None:
                        answer.on_close()
            if not keep:
                return
    except (OSError, ssl.SSLError, BodyError):
        return
    finally:
        try:
            sock.close()
        except OSError:
            pass


def _refuse(conn: _Connection, exc: ProtocolError) -> None:
    """Answer a request that could not be read with its status (400, 431...) and one line."""
    answer = _text_answer(exc.status, f"motobox: bad request: {exc}\n")
    try:
        _send(conn, "GET", "1.1", answer, keep=False)
        _linger(conn.sock)
    except OSError:
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


#: What a field name may hold (RFC 9110 5.1, a token), and what no field value may.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE_VALUE = re.compile(r"[\r\n\0]")


def _head_bytes(
    status: int, headers: Headers, length: int | None, *, keep: bool, chunked: bool = False
) -> tuple[bytes, bool]:
    """An answer's status line and header fields, in one pass: hop-by-hop ones dropped,
    ``Content-Length`` added when ``length`` is known and the answer has none (for HEAD: the
    length a GET would get), ``Transfer-Encoding: chunked`` when ``chunked``,
    ``Connection: close`` unless ``keep`` (or the answer's own ``Connection`` says so); and
    whether the connection stays open after it. A field that cannot be written (a name that is
    no token, a value with CR, LF or NUL) raises ``ValueError``: written, it would split the
    answer."""
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, reason(status))]
    has_length = False
    named: tuple[str, ...] = ()
    if "connection" in headers:
        named = tuple(
            t.strip().lower() for value in headers.get_all("connection") for t in value.split(",")
        )
        keep = keep and "close" not in named
    for name, value in headers:
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in named:
            continue
        if not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
            raise ValueError(f"the header field {name!r} cannot be written")
        if lower == "content-length":
            if status < 200 or status == 204:
                continue
            has_length = True
        lines.append(f"{name}: {value}\r\n".encode("latin-1"))
    if length is not None and not has_length and status >= 200 and status not in (204, 304):
        lines.append(b"Content-Length: %d\r\n" % length)
    if chunked:
        lines.append(b"Transfer-Encoding: chunked\r\n")
    if not keep:
        lines.append(b"Connection: close\r\n")
    lines.append(b"\r\n")
    return b"".join(lines), keep


def _send(conn: _Connection, method: str, version: str, answer: Response, keep: bool) -> bool:
    """Write ``answer``; whether the connection can carry another request."""
    body = answer.body
    no_body = method == "HEAD" or answer.status in (204, 304) or answer.status < 200
    try:
        if isinstance(body, bytes | bytearray | memoryview):
            head, keep = _head_bytes(answer.status, answer.headers, len(body), keep=keep)
            if no_body or not body:
                conn.sock.sendall(head)
            elif len(body) <= ONE_WRITE_LIMIT:
                conn.sock.sendall(head + body)  # one segment: one wake-up of the client
            else:
                conn.sock.sendall(head)
                conn.sock.sendall(body)
            return keep
        declared = answer.headers.get("content-length")
        chunked = declared is None and version == "1.1"
        keep = keep and (declared is not None or chunked)  # else the close ends the body
        head, keep = _head_bytes(answer.status, answer.headers, None, keep=keep, chunked=chunked)
    except ValueError as exc:
        failed = _text_answer(500, f"motobox: the answer cannot be written: {exc}")
        return _send(conn, method, version, failed, keep=False)
    conn.sock.sendall(head)
    sent = 0
    for chunk in body:
        if not chunk or no_body:
            continue
        sent += len(chunk)
        conn.sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
    if chunked and not no_body:
        conn.sock.sendall(b"0\r\n\r\n")
    if declared is not None and not no_body and str(sent) != declared.strip():
        return False  # the app's body is not the length it declared: the close tells the client
    return keep


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
        conn.sock.sendall(_head_bytes(answer.status, headers, None, keep=True)[0])
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
            conn.sock.sendall(last)
        return True
    except (OSError, ValueError):
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
        conn.sock.sendall(piece)
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


class _Answer:
    """httptools' callbacks for one answer from the origin (interim 1xx answers skipped)."""

    def __init__(self) -> None:
        self.parser: Any = None
        self.status = 0
        self.fields: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.head_done = self.complete = False
        self.framed = False
        self.keep_alive = False  # Content-Length or chunked: the body's end is not the close

    def on_message_begin(self) -> None:
        self.fields, self.chunks = [], []
        self.head_done = self.framed = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head_done:
            self.fields.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.head_done = True
        self.framed = any(
            k.lower() in ("content-length", "transfer-encoding") for k, _ in self.fields
        )

    def on_body(self, data: bytes) -> None:
        self.chunks.append(data)

    def on_message_complete(self) -> None:
        self.complete = not 100 <= self.status < 200
        self.keep_alive = self.parser.should_keep_alive()  # llhttp's, while it is this answer's


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

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.scheme == "https":
            context = self.ssl_context or ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.host)
        return sock

    def request(
        self, method: str, target: str, headers: Headers, body: bytes | Any = b""
    ) -> ClientResponse:
        """Send one request (``body``: bytes, or a file read to its end) and read the whole
        answer. ``headers`` must carry ``Host``; ``Content-Length`` is set here."""
        for attempt in (1, 2):
            reused = getattr(self._local, "sock", None)
            sock = reused or self._connect()
            self._local.sock = None
            try:
                answer, keep = self._exchange(sock, method, target, headers, body)
            except (OSError, ProtocolError) as exc:
                sock.close()
                retry = reused is not None and attempt == 1 and _rewindable(body)
                if not retry:
                    raise ConnectionError(f"{self.host}:{self.port}: {exc}") from None
                continue
            if keep:
                self._local.sock = sock
            else:
                sock.close()
            return answer
        raise AssertionError("unreachable")

    @staticmethod
    def _exchange(
        sock: socket.socket, method: str, target: str, headers: Headers, body: bytes | Any
    ) -> tuple[ClientResponse, bool]:
        out = headers.without_hop_by_hop()
        out.remove("content-length")
        if isinstance(body, bytes | bytearray):
            length = len(body)
        else:
            body.seek(0, io.SEEK_END)
            length = body.tell()
            body.seek(0)
        out.add("Content-Length", str(length))
        lines = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1")]
        for name, value in out:
            if not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
                raise ProtocolError(f"the header field {name!r} cannot be sent")
            lines.append(f"{name}: {value}\r\n".encode("latin-1"))
        lines.append(b"\r\n")
        sock.sendall(b"".join(lines))
        if isinstance(body, bytes | bytearray):
            if body:
                sock.sendall(body)
        else:
            for block in iter(lambda: body.read(1 << 20), b""):
                sock.sendall(block)
        answer = _Answer()
        parser = answer.parser = httptools.HttpResponseParser(answer)
        keep = True
        while not answer.complete:
            data = sock.recv(RECV)
            if not data:
                if answer.head_done and not answer.framed:  # the close ends the body
                    keep = False
                    break
                raise ProtocolError("the origin closed the connection")
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as exc:
                raise ProtocolError(f"the origin's answer cannot be read: {exc}") from None
            if method == "HEAD" and answer.head_done and answer.status >= 200:
                answer.keep_alive = parser.should_keep_alive()
                break  # the length it names is a GET's: no body follows
        keep = keep and answer.keep_alive
        return (
            ClientResponse(answer.status, Headers.adopt(answer.fields), b"".join(answer.chunks)),
            keep,
        )


def _rewindable(body: Any) -> bool:
    return isinstance(body, bytes | bytearray) or hasattr(body, "seek")
