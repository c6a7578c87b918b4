"""The AWS CLI v1 as people use it: ``s3 sync`` of a folder, a multipart ``s3 cp`` both ways,
DynamoDB items, and SQS over https by AWS's own names (sealed), whose QueueUrl must say https."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from conftest import AWS_CLI, require
from real_clients import aws_records, run_client, tail, unnamed

BIG = 20 * 1024 * 1024

S3_AND_DYNAMODB = """
set -e
aws=$1
$aws s3 mb s3://motobox-cli-sync
$aws s3 sync src s3://motobox-cli-sync/src --only-show-errors
echo "listed $($aws s3 ls s3://motobox-cli-sync/src/ | wc -l)"
$aws s3 cp big.bin s3://motobox-cli-sync/big.bin --only-show-errors
$aws s3 cp s3://motobox-cli-sync/big.bin back.bin --only-show-errors
$aws dynamodb create-table --table-name motobox-cli-table --billing-mode PAY_PER_REQUEST \
    --attribute-definitions AttributeName=id,AttributeType=S \
    --key-schema AttributeName=id,KeyType=HASH > /dev/null
$aws dynamodb put-item --table-name motobox-cli-table --item '{"id":{"S":"a"},"v":{"N":"7"}}'
echo "item $($aws dynamodb get-item --table-name motobox-cli-table --key '{"id":{"S":"a"}}' \
    --output text --query Item.v.N)"
"""

SQS = """
set -e
aws=$1
url=$($aws sqs create-queue --queue-name motobox-cli-queue --output text --query QueueUrl)
echo "created $url"
echo "looked up $($aws sqs get-queue-url --queue-name motobox-cli-queue --output text)"
$aws sqs send-message --queue-url "$url" --message-body hello > /dev/null
echo "received $($aws sqs receive-message --queue-url "$url" --output text \
    --query 'Messages[0].Body')"
"""


@pytest.mark.parametrize("sealed", [True, False], ids=["sealed", "endpoint"])
def test_aws_cli_syncs_fifty_files_copies_20_mib_both_ways_and_reads_an_item(
    tmp_path: Path, sealed: bool
) -> None:
    aws = require(AWS_CLI)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(50):
        (src / f"file-{i:02d}.txt").write_text(f"file {i}\n")
    big = hashlib.shake_256(b"motobox").digest(BIG)  # 20 MiB that do not compress
    (tmp_path / "big.bin").write_bytes(big)
    journal = tmp_path / "j.jsonl"
    done = run_client(
        ["sh", "-c", S3_AND_DYNAMODB, "sh", aws], sealed=sealed, journal=journal, cwd=tmp_path
    )
    records = aws_records(journal)
    assert unnamed(records) == [], tail(done)
    assert done.returncode == 0, tail(done)
    assert done.stdout.splitlines() == ["make_bucket: motobox-cli-sync", "listed 50", "item 7"]
    assert (tmp_path / "back.bin").read_bytes() == big
    calls = Counter(f"{r['service']}:{r['operation']}" for r in records)
    assert calls["s3:PutObject"] == 50
    assert calls["s3:CreateMultipartUpload"] == calls["s3:CompleteMultipartUpload"] == 1
    assert calls["s3:UploadPart"] == 3  # the CLI's 8 MiB parts
    assert calls["dynamodb:PutItem"] == calls["dynamodb:GetItem"] == 1
    assert all(r["status"] < 300 for r in records), [r for r in records if r["status"] >= 300]


def test_aws_cli_sqs_over_https_gets_https_queue_urls(tmp_path: Path) -> None:
    """Sealed, the CLI calls SQS at https://queue.amazonaws.com (or sqs.REGION...); the queue
    URL moto builds from the request must keep the scheme the client used."""
    aws = require(AWS_CLI)
    journal = tmp_path / "j.jsonl"
    done = run_client(["sh", "-c", SQS, "sh", aws], sealed=True, journal=journal)
    assert done.returncode == 0, tail(done)
    created, looked_up, received = done.stdout.splitlines()
    assert created.startswith("created https://"), created
    assert created.endswith(".amazonaws.com/123456789012/motobox-cli-queue"), created
    assert looked_up == created.replace("created", "looked up", 1)
    assert received == "received hello"
    calls = [f"{r['service']}:{r['operation']}" for r in aws_records(journal)]
    assert calls == ["sqs:CreateQueue", "sqs:GetQueueUrl", "sqs:SendMessage", "sqs:ReceiveMessage"]
