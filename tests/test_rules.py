"""Rule modifiers and effects, seen from a real boto3 program."""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import motobox, read_journal
from motobox import Cloud

HERE = Path(__file__).parent / "scenarios"

TWENTY_CALLS = """
import boto3
from botocore.config import Config
sts = boto3.client("sts", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
for _ in range(20):
    try:
        sts.get_caller_identity()
        print("ok")
    except Exception as exc:
        print(type(exc).__name__)
"""


def _forced_seqs(tmp_path: Path, name: str) -> list[int]:
    journal = tmp_path / f"{name}.jsonl"
    done = motobox(
        [
            "run",
            "--scenario",
            str(HERE / "throttle-sts.yaml"),
            "--journal",
            str(journal),
            "--",
            sys.executable,
            "-c",
            TWENTY_CALLS,
        ]
    )
    assert done.returncode == 0, done.stderr
    calls = [r for r in read_journal(journal) if r["kind"] == "aws" and not r.get("setup")]
    return [i for i, r in enumerate(calls) if r["forced"]]


def test_probability_with_a_seed_forces_the_same_calls_on_every_run(tmp_path: Path) -> None:
    first, second = _forced_seqs(tmp_path, "a"), _forced_seqs(tmp_path, "b")
    assert first == second
    assert 0 not in first and 1 not in first  # after: 2
    assert 3 <= len(first) <= 15  # about half of the 18 that may fire


def test_patch_changes_fields_of_motos_real_answer_and_setup_runs_first() -> None:
    with Cloud(scenarios=[HERE / "throttle-sts.yaml"]) as cloud:
        result = cloud.run(
            [
                sys.executable,
                "-c",
                "import boto3; a = boto3.client('s3').list_buckets();"
                "print([b['Name'] for b in a['Buckets']], a['Owner']['DisplayName'])",
            ]
        )
        assert result.stdout.strip() == "['patched-name'] patched-owner"
        [listing] = cloud.journal.calls("s3:ListBuckets")
        assert listing["forced"].endswith("throttle-sts.yaml#rules[1]")
        assert cloud.journal.calls("s3:CreateBucket") == []  # set-up is not the program's
        assert cloud.journal.calls("s3:CreateBucket", include_setup=True)


def test_latency_delays_the_answer_and_times_stops_after_n() -> None:
    script = """
import boto3, botocore, time
from botocore.config import Config
s3 = boto3.client("s3", config=Config(retries={"total_max_attempts": 1}))
started = time.monotonic()
s3.head_bucket(Bucket="made-by-setup")
print(round(time.monotonic() - started, 2))
for _ in range(3):
    try:
        s3.get_bucket_location(Bucket="made-by-setup")
        print("found")
    except botocore.exceptions.ClientError as e:
        print(e.response["Error"]["Code"])
"""
    with Cloud(scenarios=[HERE / "throttle-sts.yaml"]) as cloud:
        result = cloud.run([sys.executable, "-c", script])
    lines = result.stdout.split()
    assert float(lines[0]) >= 0.3
    assert lines[-3:] == ["NoSuchBucket", "NoSuchBucket", "found"]


def test_expectations_make_run_a_test_with_a_junit_report(tmp_path: Path) -> None:
    junit = tmp_path / "report.xml"
    done = motobox(
        [
            "run",
            "--scenario",
            str(HERE / "throttle-sts.yaml"),
            "--junit",
            str(junit),
            "--",
            sys.executable,
            "-c",
            "import boto3; boto3.client('sts').get_caller_identity()",
        ]
    )
    assert done.returncode == 1  # one call, not twenty
    assert "FAIL calls sts:GetCallerIdentity: exactly 20: saw 1 call" in done.stderr
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("tests") == "3" and suite.get("failures") == "1"


@pytest.mark.motobox(scenario="scenarios/throttle-sts.yaml")
def test_the_marker_loads_a_scenario_and_the_result_carries_its_report(
    motobox_cloud: Cloud,
) -> None:
    result = motobox_cloud.run([sys.executable, "-c", TWENTY_CALLS])
    assert result.report is not None and result.report.passed, result.report.text()
    assert len(motobox_cloud.journal.calls("sts:GetCallerIdentity")) == 20
