"""The account a call acts in: keys moto issued (AssumeRole and its kin, IAM access keys) act
in their own account, as moto's own lookup has them, and the journal says which."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from motobox.cloud import Cloud

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)


def test_an_assumed_role_in_another_account_acts_there(tmp_path: Path) -> None:
    with Cloud(journal=tmp_path / "j.jsonl") as cloud:
        other = "210987654321"
        keys: dict[str, Any] = {
            "aws_access_key_id": f"MOTOBOX{other}",
            "aws_secret_access_key": "x",
        }
        iam = cloud.client("iam", **keys)
        iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=TRUST)
        creds = cloud.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{other}:role/deployer", RoleSessionName="ci"
        )["Credentials"]
        assumed = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name="us-east-1",
        )
        sts = assumed.client("sts", endpoint_url=cloud.endpoint_url)
        assert sts.get_caller_identity()["Arn"] == (
            f"arn:aws:sts::{other}:assumed-role/deployer/ci"
        )
        assumed.client("s3", endpoint_url=cloud.endpoint_url).create_bucket(Bucket="theirs")
        mine = [b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"]]
        theirs = cloud.client("s3", **keys).list_buckets()
        assert "theirs" not in mine
        assert [b["Name"] for b in theirs["Buckets"]] == ["theirs"]
        made = cloud.journal.calls("s3:CreateBucket")
        assert [r["account"] for r in made] == [other]
