"""aws-chunked uploads: one strict decoder (transport.aws_chunked) for every body the gateway
hands to moto; a broken one is a 400 in S3's protocol, never a traceback."""

from __future__ import annotations

import io
from pathlib import Path

import botocore.exceptions
import pytest

from motobox.cloud import Cloud
from motobox.transport.aws_chunked import ChunkError, decode, decode_request

GOOD = b"5;chunk-signature=ab\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n"


def test_an_upload_is_decoded_and_its_trailer_becomes_a_header() -> None:
    environ = {
        "HTTP_X_AMZ_CONTENT_SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "HTTP_CONTENT_ENCODING": "aws-chunked",
        "HTTP_X_AMZ_DECODED_CONTENT_LENGTH": "11",
        "HTTP_X_AMZ_TRAILER": "x-amz-checksum-crc32",
        "CONTENT_LENGTH": str(len(GOOD)),
    }
    out = io.BytesIO()
    assert decode_request(environ, io.BytesIO(GOOD), out) == 11
    assert out.getvalue() == b"hello world"
    assert environ == {
        "HTTP_X_AMZ_CONTENT_SHA256": "UNSIGNED-PAYLOAD",
        "HTTP_X_AMZ_CHECKSUM_CRC32": "AAAA",
        "CONTENT_LENGTH": "11",
    }
    plain = {"HTTP_X_AMZ_CONTENT_SHA256": "UNSIGNED-PAYLOAD"}
    assert decode_request(plain, io.BytesIO(b"x"), io.BytesIO()) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"zz\r\nhello\r\n0\r\n\r\n",
        b"\r\n",
        b"5\r\nhel",
        b"5\r\nhelloXX\r\n0\r\n\r\n",
        b"5\r\nhello\r\n0\r\nnot a trailer\r\n\r\n",
        b"1" * 17 + b"\r\n",
    ],
    ids=["negative", "garbled", "empty-size", "short", "no-crlf", "bad-trailer", "huge-size"],
)
def test_a_broken_body_is_a_chunk_error(raw: bytes) -> None:
    with pytest.raises(ChunkError):
        decode(io.BytesIO(raw), io.BytesIO())


def test_a_broken_upload_gets_a_400_the_sdk_can_parse(tmp_path: Path) -> None:
    with Cloud(journal=tmp_path / "j.jsonl") as cloud:
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket="chunks")

        def garble(request: object, **_: object) -> None:
            request.headers["x-amz-content-sha256"] = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"  # type: ignore[attr-defined]
            request.headers["Content-Encoding"] = "aws-chunked"  # type: ignore[attr-defined]
            request.body = b"-5\r\nhello\r\n0\r\n\r\n"  # type: ignore[attr-defined]
            request.headers["Content-Length"] = str(len(request.body))  # type: ignore[attr-defined]

        s3.meta.events.register("before-send.s3.PutObject", garble)
        with pytest.raises(botocore.exceptions.ClientError) as info:
            s3.put_object(Bucket="chunks", Key="k", Body=b"hello")
        assert info.value.response["Error"]["Code"] == "IncompleteBody"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
