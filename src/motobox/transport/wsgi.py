"""A WSGI app (the gateway, and through it moto) behind the HTTP layer.

    Request -> body: in memory up to SPOOL_LIMIT, else spooled to a temporary file (a 50 MiB
               upload never sits in memory twice)
            -> environ: the method, path and query as sent; every header as an ``HTTP_*`` key
               (S3 metadata names with underscores keep their spelling, as moto's own request
               handler keeps them); ``HTTP_HOST`` and ``wsgi.url_scheme`` exactly as the
               program used them, also when the call came through the egress proxy or a
               sealed run's port 443
            -> app(environ, start_response) -> Response (the app's iterable, closed after)
            -> environ[DELIVERY]: a ``transport.http.Delivery`` the app left there (a rule's
               transport fault: reset, hang, truncate, bandwidth) rides on the Response; the
               key is present (None) before the call, so the app knows the transport can
               deliver one

The cloud's own port and the egress paths (proxy tunnels, sealed 80/443) call the same
``WSGIHandler``: an AWS call is served in-process wherever it arrives, never forwarded over a
second HTTP hop that would have to copy (and could double) its headers or lose its scheme.
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)

from motobox.transport.http import Delivery, Request, Response, split_authority

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Bodies up to this size are read into memory; larger ones are spooled to a temporary file.
SPOOL_LIMIT = 8 * 1024 * 1024
#: The environ key in which an app leaves a ``Delivery`` for this transport.
DELIVERY = "motobox.delivery"
_SKIPPED = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"})


def read_body(request: Request) -> tuple[Any, int]:
    """The request's body as a seekable file, and its length."""
    declared = request.headers.get("content-length")
    chunked = "chunked" in (request.headers.get("transfer-encoding") or "").lower()
    if not chunked and declared is not None and declared.isdigit():
        length = int(declared)
        if length <= SPOOL_LIMIT:
            data = request.body.read(length) if length else b""
            return io.BytesIO(data), len(data)
    elif not chunked:
        return io.BytesIO(b""), 0
    spool: Any = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115 - returned
    total = 0
    for block in iter(lambda: request.body.read(1 << 20), b""):
        spool.write(block)
        total += len(block)
    spool.seek(0)
    return spool, total


def environ_for(request: Request, body: Any, length: int) -> dict[str, Any]:
    path, _, query = request.path_and_query.partition("?")
    host, port = split_authority(request.authority, 443 if request.url_scheme == "https" else 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path, "latin-1"),
        "RAW_URI": request.target,
        "REQUEST_URI": request.target,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(length),
        "CONTENT_TYPE": request.headers.get("content-type") or "",
        "SERVER_NAME": host or request.local[0],
        "SERVER_PORT": str(port if host else request.local[1]),
        "SERVER_PROTOCOL": f"HTTP/{request.http_version}",
        "REMOTE_ADDR": request.peer[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.url_scheme,
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    preserved: dict[str, str] = {}
    for name, value in request.headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        if key in _SKIPPED:  # the body is read and de-chunked: CONTENT_LENGTH says how long
            continue
        if "_" in name:
            if not should_preserve_original_header_name(name):
                continue
            key = environ_key_for_header(name)
            preserved.setdefault(key, name)
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if request.absolute or "HTTP_HOST" not in environ:
        environ["HTTP_HOST"] = request.authority
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved
    return environ


class WSGIHandler:
    """``Request -> Response`` through a WSGI app."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, request: Request) -> Response:
        body, length = read_body(request)
        environ = environ_for(request, body, length)
        environ[DELIVERY] = None
        state: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            state["status"], state["headers"] = status, headers
            return lambda data: None

        result = self.app(environ, start_response)
        if not state:  # a generator: start_response comes with its first chunk
            iterator = iter(result)
            first = next(iterator, b"")
            rest: Iterable[bytes] = _chain(first, iterator)
        else:
            rest = result
        payload: bytes | Iterable[bytes] = rest
        if isinstance(rest, list) and len(rest) <= 1:
            payload = rest[0] if rest else b""
        close = getattr(result, "close", None)

        def on_close() -> None:
            if close is not None:
                close()
            body.close()

        delivery = environ.get(DELIVERY)
        return Response(
            int(state["status"].split(" ", 1)[0]),
            state["headers"],
            payload,
            on_close=on_close,
            delivery=delivery if isinstance(delivery, Delivery) else None,
        )


def _chain(first: bytes, rest: Iterable[bytes]) -> Iterable[bytes]:
    yield first
    yield from rest
