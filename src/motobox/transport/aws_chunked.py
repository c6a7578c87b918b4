"""``aws-chunked`` request bodies (S3 uploads signed per chunk or with a checksum trailer).

This is a content encoding inside the request's content, not HTTP framing (the HTTP layer has
already removed any ``Transfer-Encoding: chunked``). The gateway decodes every such body before moto
sees it, so that moto and the journal read the object's bytes, a 50 MiB upload is never held
in memory twice (moto 5.2.5's ``S3Response.setup_class`` keeps the raw and the decoded body
at once), and one strict rule applies everywhere:

    body    = *chunk last-chunk trailer CRLF
    chunk   = size [";" extension] CRLF data CRLF         size: 1-16 hex digits, > 0
    last    = "0" [";" extension] CRLF
    trailer = *(name ":" value CRLF)                       e.g. x-amz-checksum-crc32

A size that is not hex (``-5``, ``zz``), data shorter than its size, or a missing CRLF is a
``ChunkError`` (the gateway answers 400), never a traceback. Trailer fields become request
headers (``x-amz-checksum-crc32``), as S3 reads them.
"""

from __future__ import annotations

import re
from typing import Any

STREAMING_PAYLOADS = (
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
)
_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(;[^\r\n]*)?\r?\n\Z")
_TRAILER = re.compile(rb"([A-Za-z0-9-]+)\s*:\s*([^\r\n]*)\r?\n\Z")


class ChunkError(ValueError):
    """An ``aws-chunked`` body that does not follow the encoding."""


def is_aws_chunked(environ: dict[str, Any]) -> bool:
    return environ.get("HTTP_X_AMZ_CONTENT_SHA256") in STREAMING_PAYLOADS or "aws-chunked" in (
        environ.get("HTTP_CONTENT_ENCODING") or ""
    )


def _line(stream: Any) -> bytes:
    line: bytes = stream.readline(65537)
    if len(line) > 65536:
        raise ChunkError("a chunk header line is longer than 64 KiB")
    return line


def decode(stream: Any, out: Any) -> tuple[int, dict[str, str]]:
    """Decode ``stream`` into ``out``; the decoded length and the trailer fields."""
    total = 0
    while True:
        line = _line(stream)
        match = _SIZE.match(line)
        if not match:
            shown = line[:40].decode("latin-1", "replace").strip() or "(end of body)"
            raise ChunkError(f"bad aws-chunked size line {shown!r}")
        size = int(match.group(1), 16)
        if size == 0:
            break
        left = size
        while left:
            block = stream.read(min(left, 1 << 20))
            if not block:
                raise ChunkError(f"a chunk of {size} bytes ended after {size - left}")
            out.write(block)
            left -= len(block)
        total += size
        if _line(stream) not in (b"\r\n", b"\n"):
            raise ChunkError("a chunk's data is not followed by CRLF")
    trailers: dict[str, str] = {}
    while True:
        line = _line(stream)
        if line in (b"\r\n", b"\n", b""):
            return total, trailers
        match = _TRAILER.match(line)
        if not match:
            raise ChunkError("bad aws-chunked trailer line")
        trailers[match.group(1).decode("ascii").lower()] = match.group(2).decode("latin-1")


def decode_request(environ: dict[str, Any], stream: Any, out: Any) -> int | None:
    """Decode an ``aws-chunked`` request body from ``stream`` into ``out`` and make
    ``environ`` describe the plain body moto then reads (``UNSIGNED-PAYLOAD``, the decoded
    length, the trailer's checksum as a header). Returns the decoded length, or None when the
    request is not aws-chunked (``stream`` is then untouched). Raises ``ChunkError``."""
    if not is_aws_chunked(environ):
        return None
    total, trailers = decode(stream, out)
    encodings = [
        e.strip()
        for e in (environ.get("HTTP_CONTENT_ENCODING") or "").split(",")
        if e.strip() and e.strip() != "aws-chunked"
    ]
    if encodings:
        environ["HTTP_CONTENT_ENCODING"] = ",".join(encodings)
    else:
        environ.pop("HTTP_CONTENT_ENCODING", None)
    for key in ("HTTP_X_AMZ_DECODED_CONTENT_LENGTH", "HTTP_X_AMZ_TRAILER"):
        environ.pop(key, None)
    for name, value in trailers.items():
        if name.startswith("x-amz-checksum-"):
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
    environ["CONTENT_LENGTH"] = str(total)
    return total
