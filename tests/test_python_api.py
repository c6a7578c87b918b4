"""The Python API and the pytest fixture."""

from __future__ import annotations

import sys
from pathlib import Path

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


def test_state_lives_in_memory_unless_tmpdir_names_a_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.delenv("TMPDIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    with Cloud() as cloud:
        assert cloud.state_dir is not None
        state = cloud.state_dir
        if Path("/dev/shm").is_dir():
            assert state.parent == Path("/dev/shm")
        assert (state / "ca.pem").is_file()
    assert not state.exists()
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile caches the folder it found
    with Cloud() as cloud:
        assert cloud.state_dir is not None and cloud.state_dir.parent == tmp_path
    assert not list(tmp_path.iterdir())


def test_moto_builds_no_class_per_form_request() -> None:
    """moto runs Flask in debug mode, where every form-encoded request got a new class."""
    from unittest import mock

    with (
        Cloud() as cloud,
        mock.patch("flask.debughelpers.attach_enctype_error_multidict") as attach,
    ):
        for _ in range(3):
            assert cloud.client("sts").get_caller_identity()["Account"] == cloud.account
    assert not attach.called
