"""``aws-chunked`` S3 uploads (a content encoding, not HTTP framing), decoded a chunk at a time."""

from __future__ import annotations

from typing import Any

STREAMING_PAYLOADS = (
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
)


def decode_aws_chunked(environ: dict[str, Any], stream: Any, out: Any) -> int | None:
    """An ``aws-chunked`` S3 upload decoded from ``stream`` into ``out``, a chunk at a time.

    moto 5.2.5 (``S3Response.setup_class``) keeps the raw body and builds the decoded one by
    concatenating bytes, so a 50 MiB upload over HTTPS (botocore sends those aws-chunked with a
    checksum trailer) holds two or three copies at once. The gateway calls this for large bodies
    only: moto then gets a plain body (``UNSIGNED-PAYLOAD``, the decoded length) and reads it
    once. Trailers are dropped, as moto drops them. Returns the decoded length, or None when the
    request is not aws-chunked (``stream`` is then left as it was)."""
    if environ.get("HTTP_X_AMZ_CONTENT_SHA256") not in STREAMING_PAYLOADS:
        return None
    total = 0
    while True:
        line = stream.readline(65537)
        if not line:
            break
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        while size:
            block = stream.read(min(size, 1 << 20))
            if not block:
                break
            out.write(block)
            size -= len(block)
            total += len(block)
        stream.readline(3)  # the CRLF after the chunk
    encodings = [
        e.strip()
        for e in environ.get("HTTP_CONTENT_ENCODING", "").split(",")
        if e.strip() and e.strip() != "aws-chunked"
    ]
    if encodings:
        environ["HTTP_CONTENT_ENCODING"] = ",".join(encodings)
    else:
        environ.pop("HTTP_CONTENT_ENCODING", None)
    for key in ("HTTP_X_AMZ_DECODED_CONTENT_LENGTH", "HTTP_X_AMZ_TRAILER"):
        environ.pop(key, None)
    environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
    environ["CONTENT_LENGTH"] = str(total)
    return total
