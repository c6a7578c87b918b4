"""Forced answers reach real SDKs, parsed into the values the scenario gave."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import AWS_CLI, NODE_DIR, motobox, read_journal, require

HERE = Path(__file__).parent / "scenarios"

BOTO3_SCRIPT = """
import json, boto3
out = {}
item = boto3.client("dynamodb").get_item(TableName="orders", Key={"id": {"S": "42"}})["Item"]
out["dynamodb"] = item
queue = "http://sqs.us-east-1.amazonaws.com/123456789012/q"
out["sqs"] = boto3.client("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"]
ec2 = boto3.client("ec2").describe_instances()["Reservations"][0]["Instances"][0]
out["ec2"] = [ec2["InstanceId"], ec2["InstanceType"], ec2["State"]["Name"]]
out["s3"] = boto3.client("s3").get_object_tagging(Bucket="b", Key="k")["TagSet"]
fn = boto3.client("lambda").get_function(FunctionName="forced-fn")["Configuration"]
out["lambda"] = [fn["FunctionName"], fn["MemorySize"]]
arn = "arn:aws:arc-region-switch::123456789012:plan/p"
plan = boto3.client("arc-region-switch").get_plan(arn=arn)
out["cbor"] = [plan["plan"]["name"], plan["plan"]["regions"]]
print(json.dumps(out, sort_keys=True))
"""


def test_a_boto3_script_sees_forced_answers_in_every_protocol(tmp_path: Path) -> None:
    import json

    journal = tmp_path / "j.jsonl"
    done = motobox(
        [
            "run",
            "--scenario",
            str(HERE / "forced-answers.yaml"),
            "--journal",
            str(journal),
            "--",
            sys.executable,
            "-c",
            BOTO3_SCRIPT,
        ],
        isolated=True,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["dynamodb"] == {"id": {"S": "42"}, "total": {"N": "9.5"}, "paid": {"BOOL": True}}
    assert out["sqs"] == "forced body"
    assert out["ec2"] == ["i-forced", "t3.micro", "running"]
    assert out["s3"] == [{"Key": "team", "Value": "motobox"}]
    assert out["lambda"] == ["forced-fn", 256]
    assert out["cbor"] == ["forced-plan", ["us-east-1"]]
    records = [r for r in read_journal(journal) if r["kind"] == "aws"]
    assert len(records) == 6
    assert all(
        r["forced"].endswith(f"forced-answers.yaml#rules[{i}]") for i, r in enumerate(records)
    )
    protocols = {"dynamodb", "sqs", "ec2", "s3", "lambda", "arc-region-switch"}
    assert {r["service"] for r in records} == protocols


def test_the_aws_cli_sees_a_forced_error_with_its_code_and_message() -> None:
    aws = require(AWS_CLI)
    done = motobox(
        ["run", "--scenario", str(HERE / "forced-error.yaml"), "--", aws, "s3api", "list-buckets"],
        isolated=True,
    )
    assert done.returncode != 0
    assert "(AccessDenied)" in done.stderr
    assert "forced by motobox for the test" in done.stderr


def test_the_node_sdk_sees_a_forced_error_with_its_code_and_message() -> None:
    require(NODE_DIR / "node_modules" / "@aws-sdk" / "client-sts")
    done = motobox(
        [
            "run",
            "--scenario",
            str(HERE / "forced-error.yaml"),
            "--",
            "node",
            str(NODE_DIR / "forced-error.mjs"),
        ],
        isolated=True,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "error: ExpiredToken: The security token included in the request is expired" in done.stdout
    )
