"""The HTTP layer (motobox.transport.http, llhttp) behind a WSGI app, over raw sockets: keep-alive,
malformed heads and bodies refused with a status and one line, answers in one write, chunked
answers, Expect: 100-continue, and a stop that frees the port at once."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from motobox.transport.http import ONE_WRITE_LIMIT, Client, Headers, Server
from motobox.transport.wsgi import WSGIHandler


def _app(environ: dict[str, Any], start_response: Any) -> Any:
    path = environ["PATH_INFO"]
    body = environ["wsgi.input"].read()
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"one,", b"two"])
    if path == "/split":  # a value that would end the head and start a second answer
        start_response("200 OK", [("X-Bad", "a\r\nX-Injected: 1")])
        return [b"never"]
    if path == "/big":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [b"x" * (ONE_WRITE_LIMIT + 10)]
    headers = sorted(
        f"{k}={v}"
        for k, v in environ.items()
        if k.startswith("HTTP_X") or (k == "CONTENT_TYPE" and v)
    )
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["|".join([*headers, f"body={body.decode()}"]).encode()]


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(WSGIHandler(_app))
    srv.start()
    yield srv
    srv.stop()


def _exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def _answers(raw: bytes) -> list[tuple[bytes, dict[str, str], bytes]]:
    """Split a byte stream of Content-Length answers into (status line, headers, body)."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        headers = {
            k.decode().lower(): v.decode().strip()
            for k, _, v in (line.partition(b":") for line in lines[1:])
        }
        n = int(headers.get("content-length", "0"))
        out.append((lines[0], headers, rest[:n]))
        raw = rest[n:]
    return out


def test_two_requests_on_one_connection_are_both_answered(server: Server) -> None:
    request = (
        b"POST /a HTTP/1.1\r\nHost: x\r\nX-One: 1\r\nContent-Length: 3\r\n\r\nabc"
        b"POST /b HTTP/1.1\r\nHost: x\r\nX-Two: 2\r\nContent-Length: 0\r\n\r\n"
    )
    answers = _answers(_exchange(server.port, request))
    assert [a[0] for a in answers] == [b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK"]
    assert answers[0][2] == b"HTTP_X_ONE=1|body=abc"
    assert answers[1][2] == b"HTTP_X_TWO=2|body="


def test_repeated_headers_are_joined_and_values_trimmed(server: Server) -> None:
    request = (
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Many: a\r\nX-Many:  b \r\nContent-Type: text/x\r\n"
        b"Connection: close\r\n\r\n"
    )
    [(status, headers, body)] = _answers(_exchange(server.port, request))
    assert status == b"HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert body == b"CONTENT_TYPE=text/x|HTTP_X_MANY=a,b|body="


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\n\r\n", b"505"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\n\r\n", b"400"),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-%d: v\r\n" % i for i in range(100))
            + b"\r\n",
            b"431",
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"v" * 300000 + b"\r\n\r\n", b"431"),
        ("GET /b/é HTTP/1.1\r\nHost: x\r\n\r\n".encode(), b"400"),  # README: Other limits
    ],
    ids=["no-version", "http2", "no-colon", "no-host", "101-headers", "long-line", "raw-utf8"],
)
def test_a_malformed_request_gets_an_error_status_and_the_connection_closes(
    server: Server, request_bytes: bytes, status: bytes
) -> None:
    raw = _exchange(server.port, request_bytes)
    assert raw.split(b"\r\n", 1)[0].split(b" ")[1] == status


def test_http_1_0_gets_one_answer_and_the_connection_closes(server: Server) -> None:
    """No HTTP/1.0 connection is kept alive, keep-alive asked or not (every SDK speaks 1.1)."""
    for ask in (b"", b"Connection: keep-alive\r\n"):
        raw = _exchange(server.port, b"GET / HTTP/1.0\r\n" + ask + b"\r\nGET / HTTP/1.0\r\n\r\n")
        assert len(_answers(raw)) == 1


def test_a_small_answer_arrives_in_one_segment(server: Server) -> None:
    """Head and body in one write: the client's first read holds the whole answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        first = sock.recv(65536)
    [(status, headers, body)] = _answers(first)
    assert status == b"HTTP/1.1 200 OK" and body == b"body=hi"
    assert int(headers["content-length"]) == len(body)


def test_large_and_streamed_answers_arrive_whole(server: Server) -> None:
    raw = _exchange(server.port, b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    [(_, headers, body)] = _answers(raw)
    assert body == b"x" * (ONE_WRITE_LIMIT + 10)
    raw = _exchange(server.port, b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert rest == b"4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n"


def test_head_answers_carry_no_body(server: Server) -> None:
    """The length announced is the one a GET would get ("body=" is 5 bytes)."""
    raw = _exchange(server.port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: 5\r\n" in head
    assert rest == b""


def test_stop_frees_the_port_and_ends_the_serving_thread() -> None:
    srv = Server(WSGIHandler(_app))
    srv.start()
    port, thread = srv.port, srv._thread
    assert thread is not None
    srv.stop()
    assert not thread.is_alive()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # free again


@pytest.mark.parametrize(
    "chunks",
    [
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"zz\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhel",
        b"5\r\nhelloXX0\r\n\r\n",
    ],
    ids=["negative-size", "garbled-size", "short-data", "no-crlf-after-data"],
)
def test_a_broken_chunked_body_is_refused_without_reaching_the_app(
    server: Server, chunks: bytes
) -> None:
    """One chunk decoder (llhttp's), strict: before, ``int(line, 16)`` took ``-5`` and a garbled
    size line was a traceback."""
    raw = _exchange(
        server.port,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks,
    )
    assert b"body=" not in raw  # the app never answered with a body it read
    if raw:
        assert raw.split(b" ")[1] == b"400", raw
        assert raw.count(b"\n", raw.index(b"\r\n\r\n") + 4) <= 1  # one line, no traceback


def test_a_good_chunked_body_reaches_the_app_whole(server: Server) -> None:
    raw = _exchange(
        server.port,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer-X: y\r\n\r\n",
    )
    [(_, _, body)] = _answers(raw)
    assert body == b"body=abcde"


def test_a_body_in_thousands_of_pieces_reaches_the_app_whole(server: Server) -> None:
    # Each chunk is one piece of llhttp's; a body of 5,000 pieces used to be read by one
    # recursive call a piece (RecursionError past ~1,000) that copied what it had each time.
    text = bytes(97 + i % 26 for i in range(5000))
    chunks = b"".join(b"1\r\n" + text[i : i + 1] + b"\r\n" for i in range(len(text)))
    raw = _exchange(
        server.port,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + chunks
        + b"0\r\n\r\n",
    )
    [(status, _, body)] = _answers(raw)
    assert status == b"HTTP/1.1 200 OK" and body == b"body=" + text


def test_expect_100_continue_is_answered_before_the_body_is_sent(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
        )
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"  # botocore wants the reason
        sock.sendall(b"data")
        [(status, _, body)] = _answers(sock.recv(65536))
    assert status == b"HTTP/1.1 200 OK" and body == b"body=data"


def test_the_app_sees_one_host_whatever_the_spelling(server: Server) -> None:
    """Node.js sends ``host`` in lower case: it reaches the app once, as sent."""
    raw = _exchange(
        server.port, b"GET / HTTP/1.1\r\nhost: b.s3.amazonaws.com\r\nConnection: close\r\n\r\n"
    )
    assert b"HTTP_HOST" not in raw  # _app lists HTTP_X* only; check via a host echo below
    seen: list[str] = []

    def echo(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["HTTP_HOST"])
        start_response("200 OK", [])
        return [b""]

    srv = Server(WSGIHandler(echo)).start()
    try:
        _exchange(
            srv.port, b"GET / HTTP/1.1\r\nhost: b.s3.amazonaws.com\r\nConnection: close\r\n\r\n"
        )
    finally:
        srv.stop()
    assert seen == ["b.s3.amazonaws.com"]


def test_a_header_field_that_would_split_the_answer_becomes_a_500(server: Server) -> None:
    raw = _exchange(server.port, b"GET /split HTTP/1.1\r\nHost: x\r\n\r\n")
    [(status, headers, body)] = _answers(raw)
    assert status == b"HTTP/1.1 500 Internal Server Error", raw
    assert "x-injected" not in headers and b"never" not in raw
    assert b"X-Bad" in body and body.count(b"\n") == 0  # one line that names the field


def test_pipelined_requests_are_answered_in_order_up_to_a_broken_one(server: Server) -> None:
    raw = _exchange(
        server.port,
        b"POST / HTTP/1.1\r\nHost: x\r\nX-N: 1\r\nContent-Length: 1\r\n\r\na"
        b"GET / HTTP/1.1\r\nHost: x\r\nX-N: 2\r\n\r\n"
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    answers = _answers(raw)
    assert [a[2] for a in answers[:2]] == [b"HTTP_X_N=1|body=a", b"HTTP_X_N=2|body="]
    assert answers[2][0].split(b" ")[1] == b"400"  # length and chunked at once: smuggling
    assert len(answers) == 3


def test_an_upgrade_is_answered_as_a_plain_request_and_the_connection_closes(
    server: Server,
) -> None:
    raw = _exchange(
        server.port,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    [(status, headers, _)] = _answers(raw)
    assert status == b"HTTP/1.1 200 OK" and headers["connection"] == "close"


def _origin(answers: list[bytes]) -> tuple[int, list[bytes]]:
    """A raw origin on a free port: reads one request head (and its Content-Length body) per
    entry of ``answers`` and writes that entry; returns the port and the requests it read."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def run() -> None:
        conn, _ = listener.accept()
        with conn, listener:
            buffer = b""
            for answer in answers:
                while b"\r\n\r\n" not in buffer:
                    buffer += conn.recv(65536)
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                seen.append(head + b"\r\n\r\n" + buffer[:length])
                buffer = buffer[length:]
                conn.sendall(answer)

    import threading

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1], seen


def test_the_upstream_client_reads_every_framing_an_origin_uses() -> None:
    port, seen = _origin(
        [
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
            b"2\r\nde\r\n1\r\nf\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",  # HEAD: a GET's length, no body
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nx-amz-meta-my_key: V\r\n\r\nno",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the close",
        ]
    )
    client = Client(f"http://127.0.0.1:{port}", timeout=5)
    host = Headers([("Host", f"127.0.0.1:{port}")])
    first = client.request("PUT", "/k", host, b"body")
    assert (first.status, first.body) == (200, b"abc")
    second = client.request("GET", "/c", host)
    assert (second.body, second.headers.get("x-a")) == (b"def", "1")
    assert client.request("HEAD", "/h", host).body == b""
    fourth = client.request("GET", "/m", host)
    assert fourth.status == 404 and fourth.headers.items()[1] == ("x-amz-meta-my_key", "V")
    assert client.request("GET", "/e", host).body == b"until the close"
    assert seen[0].endswith(b"Content-Length: 4\r\n\r\nbody")  # all on one connection
    assert len(seen) == 5
