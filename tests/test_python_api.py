"""The Python API and the pytest fixture."""

from __future__ import annotations

import sys

import pytest

from motobox import Cloud


def test_cloud_runs_a_program_and_records_its_calls() -> None:
    with Cloud(account="210987654321") as cloud:
        result = cloud.run(
            [
                sys.executable,
                "-c",
                "import boto3; print(boto3.client('sts').get_caller_identity()['Account'])",
            ]
        )
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == "210987654321"
        [call] = cloud.journal.calls("sts:GetCallerIdentity")
        assert call["account"] == "210987654321" and call["status"] == 200


def test_the_fixture_gives_each_test_its_own_cloud(motobox_cloud: Cloud) -> None:
    motobox_cloud.client("s3").create_bucket(Bucket="fixture-bucket")
    result = motobox_cloud.run(
        [
            sys.executable,
            "-c",
            "import boto3;print([b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']])",
        ]
    )
    assert "fixture-bucket" in result.stdout
    assert motobox_cloud.journal.calls("s3:ListBuckets")


@pytest.mark.motobox(account="111122223333")
def test_the_marker_sets_the_fixtures_options(motobox_cloud: Cloud) -> None:
    assert motobox_cloud.account == "111122223333"
