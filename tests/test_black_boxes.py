"""Real programs, unmodified, redirected to the embedded cloud by their environment alone."""

from __future__ import annotations

from pathlib import Path

from conftest import AWS_CLI, NODE_DIR, OLD_PYTHON, motobox, ops, read_journal, require

OLD_BOTO_SCRIPT = """
import boto3, botocore
assert botocore.__version__.startswith("1.29."), botocore.__version__
client = boto3.client("s3")
client.create_bucket(Bucket="old-client-bucket")
client.put_object(Bucket="old-client-bucket", Key="a.txt", Body=b"from the client API")
body = client.get_object(Bucket="old-client-bucket", Key="a.txt")["Body"].read()
assert body == b"from the client API"
assert [o["Key"] for o in client.list_objects(Bucket="old-client-bucket")["Contents"]] == ["a.txt"]
bucket = boto3.resource("s3").Bucket("old-resource-bucket")
bucket.create()
bucket.put_object(Key="b.txt", Body=b"from the resource API")
assert bucket.Object("b.txt").get()["Body"].read() == b"from the resource API"
assert [o.key for o in bucket.objects.all()] == ["b.txt"]
print("account", boto3.client("sts").get_caller_identity()["Account"])
"""


def test_aws_cli_v1_makes_and_lists_a_bucket(tmp_path: Path) -> None:
    aws = require(AWS_CLI)
    journal = tmp_path / "j.jsonl"
    done = motobox(
        [
            "run",
            "--journal",
            str(journal),
            "--",
            "sh",
            "-c",
            f"{aws} s3 mb s3://motobox-cli-test && {aws} s3 ls",
        ],
        isolated=True,
    )
    assert done.returncode == 0, done.stderr
    assert "make_bucket: motobox-cli-test" in done.stdout
    assert "motobox-cli-test" in done.stdout.splitlines()[-1]
    assert ops(read_journal(journal)) == ["s3:CreateBucket", "s3:ListBuckets"]


def test_node_sdk_v3_lists_buckets_and_gets_the_caller_identity(tmp_path: Path) -> None:
    require(NODE_DIR / "node_modules" / "@aws-sdk" / "client-s3")
    journal = tmp_path / "j.jsonl"
    done = motobox(
        [
            "run",
            "--account",
            "210987654321",
            "--journal",
            str(journal),
            "--",
            "node",
            str(NODE_DIR / "sdk-v3.mjs"),
        ],
        isolated=True,
    )
    assert done.returncode == 0, done.stderr
    assert "account: 210987654321" in done.stdout
    assert ops(read_journal(journal)) == ["s3:ListBuckets", "sts:GetCallerIdentity"]


def test_botocore_1_29_client_and_resource_apis_reach_the_mock_through_aws_data_path(
    tmp_path: Path,
) -> None:
    python = require(OLD_PYTHON)
    journal = tmp_path / "j.jsonl"
    done = motobox(
        ["run", "--journal", str(journal), "--", python, "-c", OLD_BOTO_SCRIPT], isolated=True
    )
    assert done.returncode == 0, done.stderr
    assert "account 123456789012" in done.stdout
    called = ops(read_journal(journal))
    assert called.count("s3:CreateBucket") == 2 and called.count("s3:PutObject") == 2
    assert "s3:GetObject" in called and "sts:GetCallerIdentity" in called
