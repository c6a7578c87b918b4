"""The AWS SDK for JavaScript v3 as applications use it: S3's default virtual-hosted addressing
(``bucket.s3.REGION.amazonaws.com``), lib-storage's multipart upload, the DynamoDB document
client. Sealed, it reaches the cloud by AWS's own names; unsealed, through AWS_ENDPOINT_URL."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import NODE_DIR, read_journal, require
from real_clients import aws_records, run_client, tail, unnamed

PROGRAM = NODE_DIR / "real-clients.mjs"

EXPECTED_OUTPUT = [
    "us-east-1 motobox-node-east: hello.txt",
    "eu-west-1 motobox-node-west: hello.txt",
    "multipart: 20971520 bytes, same",
    'document: {"id":"a","tags":["x","y"],"n":7}',
]
EXPECTED_CALLS = Counter(
    {
        "s3:CreateBucket": 2,
        "s3:PutObject": 2,
        "s3:ListObjectsV2": 2,
        "s3:CreateMultipartUpload": 1,
        "s3:UploadPart": 4,
        "s3:CompleteMultipartUpload": 1,
        "s3:GetObject": 1,
        "dynamodb:CreateTable": 1,
        "dynamodb:PutItem": 1,
        "dynamodb:GetItem": 1,
    }
)


@pytest.mark.parametrize("sealed", [True, False], ids=["sealed", "endpoint"])
def test_node_sdk_with_default_addressing_makes_buckets_uploads_and_documents(
    tmp_path: Path, sealed: bool
) -> None:
    require(NODE_DIR / "node_modules" / "@aws-sdk" / "lib-storage")
    journal = tmp_path / "j.jsonl"
    done = run_client(["node", str(PROGRAM)], sealed=sealed, journal=journal)
    records = aws_records(journal)
    assert unnamed(records) == [], tail(done)
    assert done.returncode == 0, tail(done)
    assert done.stdout.splitlines() == EXPECTED_OUTPUT
    assert Counter(f"{r['service']}:{r['operation']}" for r in records) == EXPECTED_CALLS
    regions = [r["region"] for r in records if r["operation"] == "CreateBucket"]
    assert regions == ["us-east-1", "eu-west-1"]
    if sealed:  # it used the SDK's default, virtual-hosted names
        names = {r["name"] for r in read_journal(journal) if r["kind"] == "dns"}
        assert {
            "motobox-node-east.s3.us-east-1.amazonaws.com",
            "motobox-node-west.s3.eu-west-1.amazonaws.com",
            "dynamodb.us-east-1.amazonaws.com",
        } <= names
