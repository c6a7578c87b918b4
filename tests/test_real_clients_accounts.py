"""Assumed roles in other accounts: keys that sts:AssumeRole issued act in the role's account,
as in AWS and in moto's own lookup, and the journal says which account each call acted in."""

from __future__ import annotations

import sys
from pathlib import Path

from real_clients import aws_records, run_client, tail

ROLE_ACCOUNT = "210987654321"

PROGRAM = f"""
import boto3
role_arn = "arn:aws:iam::{ROLE_ACCOUNT}:role/motobox-cross-account"
mine = boto3.session.Session()
print("caller", mine.client("sts").get_caller_identity()["Account"])
keys = mine.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="motobox")["Credentials"]
role = boto3.session.Session(aws_access_key_id=keys["AccessKeyId"],
                             aws_secret_access_key=keys["SecretAccessKey"],
                             aws_session_token=keys["SessionToken"])
who = role.client("sts").get_caller_identity()
print("assumed", who["Account"], who["Arn"])
role.client("s3").create_bucket(Bucket="motobox-role-bucket")
role.client("sqs").create_queue(QueueName="motobox-role-queue")
role.client("dynamodb").create_table(
    TableName="motobox-role-table", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{{"AttributeName": "id", "AttributeType": "S"}}],
    KeySchema=[{{"AttributeName": "id", "KeyType": "HASH"}}])
for name, session in (("role", role), ("caller", mine)):
    buckets = [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]]
    queues = [u.rsplit("/", 1)[1] for u in session.client("sqs").list_queues().get("QueueUrls", [])]
    tables = session.client("dynamodb").list_tables()["TableNames"]
    print(name, "sees", buckets, queues, tables)
"""


def test_boto3_acts_in_the_account_of_the_role_it_assumed(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    done = run_client([sys.executable, "-c", PROGRAM], sealed=False, journal=journal)
    assert done.returncode == 0, tail(done)
    assert done.stdout.splitlines() == [
        "caller 123456789012",
        f"assumed {ROLE_ACCOUNT} arn:aws:sts::{ROLE_ACCOUNT}:assumed-role/"
        "motobox-cross-account/motobox",
        "role sees ['motobox-role-bucket'] ['motobox-role-queue'] ['motobox-role-table']",
        "caller sees [] [] []",
    ]
    acted = [(f"{r['service']}:{r['operation']}", r["account"]) for r in aws_records(journal)]
    assert acted == [
        ("sts:GetCallerIdentity", "123456789012"),
        ("sts:AssumeRole", "123456789012"),
        ("sts:GetCallerIdentity", ROLE_ACCOUNT),
        ("s3:CreateBucket", ROLE_ACCOUNT),
        ("sqs:CreateQueue", ROLE_ACCOUNT),
        ("dynamodb:CreateTable", ROLE_ACCOUNT),
        ("s3:ListBuckets", ROLE_ACCOUNT),
        ("sqs:ListQueues", ROLE_ACCOUNT),
        ("dynamodb:ListTables", ROLE_ACCOUNT),
        ("s3:ListBuckets", "123456789012"),
        ("sqs:ListQueues", "123456789012"),
        ("dynamodb:ListTables", "123456789012"),
    ]
