"""The program never sees real credentials and never reaches anything but the mock.

Every test here runs motobox in a network namespace that has only loopback, so a regression
cannot send a packet to AWS or the internet; the leak probes also run sealed (``--seal``), with
the proxy settings left in place so that the proxy path is what they test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conftest import AWS_CLI, motobox, ops, read_journal, require

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "session-token-value-that-must-not-leak",
    "AWS_PROFILE": "production-profile",
    "AWS_DEFAULT_PROFILE": "production-default-profile",
    "AWS_ROLE_ARN": "arn:aws:iam::999999999999:role/production-role",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/web-identity-token",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.2/creds-that-must-not-leak",
}

HARD_CODED_STS = """
import boto3
sts = boto3.client("sts", endpoint_url="https://sts.amazonaws.com", region_name="us-east-1")
print("account", sts.get_caller_identity()["Account"])
"""

FETCH_EXAMPLE = """
import requests
answer = requests.get("https://example.com/", timeout=10)
print("status", answer.status_code)
print(answer.text)
"""


def test_a_hard_coded_aws_endpoint_is_answered_by_the_mock_through_the_proxy(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "j.jsonl"
    done = motobox(
        [
            "run",
            "--seal",
            "--account",
            "210987654321",
            "--journal",
            str(journal),
            "--",
            sys.executable,
            "-c",
            HARD_CODED_STS,
        ],
        isolated=True,
    )
    assert done.returncode == 0, done.stderr
    assert "account 210987654321" in done.stdout
    assert ops(read_journal(journal)) == ["sts:GetCallerIdentity"]


def test_any_other_host_gets_motobox_403_and_is_journaled_as_denied(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    done = motobox(
        ["run", "--seal", "--journal", str(journal), "--", sys.executable, "-c", FETCH_EXAMPLE],
        isolated=True,
    )
    assert done.returncode == 0, done.stderr
    assert "status 403" in done.stdout
    assert "motobox denied egress to example.com" in done.stdout
    seal, record = read_journal(journal)  # a sealed run's journal opens with its path
    assert seal["kind"] == "seal"
    assert record["kind"] == "egress" and record["action"] == "deny"
    assert record["url"] == "https://example.com/" and record["status"] == 403


def test_real_credentials_profiles_and_roles_never_reach_the_program(tmp_path: Path) -> None:
    env = {**os.environ, **SECRETS}
    done = motobox(["run", "--", "env"], env=env, isolated=True)
    assert done.returncode == 0, done.stderr
    for name, value in SECRETS.items():
        assert value not in done.stdout, f"{name}'s value reached the program"
    program_env = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert program_env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert "AWS_PROFILE" not in program_env and "AWS_ROLE_ARN" not in program_env


def test_credential_process_in_home_is_never_run_by_boto3_or_the_aws_cli(tmp_path: Path) -> None:
    aws = require(AWS_CLI)
    marker = tmp_path / "credential_process_ran"
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        "[default]\nregion = eu-west-1\n"
        f"credential_process = sh -c 'touch {marker}; echo {{}}'\n"
        "[profile production-profile]\n"
        f"credential_process = sh -c 'touch {marker}; echo {{}}'\n"
    )
    env = {**os.environ, **SECRETS, "HOME": str(home)}
    script = "import boto3; print(boto3.client('sts').get_caller_identity()['Account'])"
    done = motobox(
        ["run", "--seal", "--", "sh", "-c", f'{sys.executable} -c "{script}" && {aws} s3 ls'],
        env=env,
        isolated=True,
    )
    assert done.returncode == 0, done.stderr
    assert "123456789012" in done.stdout
    assert not marker.exists()


def test_ca_variables_are_replaced_even_when_the_parent_sets_them() -> None:
    env = {**os.environ}
    for name in (
        "REQUESTS_CA_BUNDLE",
        "AWS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "NODE_EXTRA_CA_CERTS",
        "CURL_CA_BUNDLE",
    ):
        env[name] = "/etc/ssl/certs/ca-certificates.crt"
    done = motobox(["run", "--", "env"], env=env, isolated=True)
    program_env = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    bundles = {
        program_env[n]
        for n in (
            "REQUESTS_CA_BUNDLE",
            "AWS_CA_BUNDLE",
            "SSL_CERT_FILE",
            "NODE_EXTRA_CA_CERTS",
            "CURL_CA_BUNDLE",
        )
    }
    assert len(bundles) == 1 and "/etc/ssl" not in bundles.pop()


def test_tls_serves_boto3_and_the_aws_cli_over_https(tmp_path: Path) -> None:
    aws = require(AWS_CLI)
    journal = tmp_path / "j.jsonl"
    script = (
        "import boto3,os; assert os.environ['AWS_ENDPOINT_URL'].startswith('https://');"
        "boto3.client('s3').create_bucket(Bucket='tls-bucket')"
    )
    done = motobox(
        [
            "run",
            "--tls",
            "--journal",
            str(journal),
            "--",
            "sh",
            "-c",
            f'{sys.executable} -c "{script}" && {aws} s3 ls',
        ],
        isolated=True,
    )
    assert done.returncode == 0, done.stderr
    assert "tls-bucket" in done.stdout
    assert ops(read_journal(journal)) == ["s3:CreateBucket", "s3:ListBuckets"]
