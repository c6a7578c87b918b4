"""Faults below the answer: a rule resets the connection, holds it, cuts the body or paces it,
and the client reports what it reports against AWS. Each path a call can take is tried: the
cloud's port (``AWS_ENDPOINT_URL``), a CONNECT tunnel through the egress proxy, a sealed run's
port 443; and egress stubs fail the same way."""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from pathlib import Path

import botocore.config
import botocore.exceptions
import botocore.parsers
import pytest

from conftest import AWS_CLI, NODE_DIR, motobox, read_journal, require
from motobox import Cloud
from real_clients import UNREDIRECTED

HERE = Path(__file__).parent / "scenarios"
BODY = b"0123456789abcdef" * 4  # the object transport-faults.yaml puts, 64 bytes

ONE_ATTEMPT = r"""
import re, boto3, botocore.config, botocore.exceptions
config = botocore.config.Config(read_timeout=0.5, connect_timeout=1)
def attempt(label, call):
    try:
        call()
        print(label, "no error")
    except botocore.exceptions.ClientError as e:
        meta = e.response["ResponseMetadata"]
        headers = meta["HTTPHeaders"]
        print(label, "ClientError", e.response["Error"]["Code"], meta["HTTPStatusCode"],
              headers.get("retry-after"), headers.get("x-amz-retry-after"))
    except Exception as e:
        print(label, type(e).__name__, *re.findall(r"IncompleteRead\([^)]*\)", str(e))[:1])
attempt("reset", lambda: boto3.client("sts", config=config).get_caller_identity())
attempt("hang", lambda: boto3.client("sqs", config=config).list_queues())
attempt("truncate", lambda: boto3.client("s3", config=config).get_object(
    Bucket="faults-bucket", Key="big.txt")["Body"].read())
attempt("slowdown", lambda: boto3.client("s3", config=config).list_buckets())
"""

PATHS = {
    # how the program reaches the cloud: motobox run's options, and what the program loses
    "endpoint": ([], []),
    "proxy": ([], ["env", "-u", "AWS_ENDPOINT_URL", "-u", "AWS_DATA_PATH"]),
    "sealed": (["--seal"], UNREDIRECTED),
}
# What boto3 raises for a reset. Inside a CONNECT tunnel it is ProxyConnectionError, as behind
# any HTTPS proxy: http.client closes the connection on a ConnectionError, which clears
# urllib3's has_connected_to_proxy, so urllib3 wraps the reset in ProxyError.
RESET_ERROR = {
    "endpoint": "ConnectionClosedError",
    "proxy": "ProxyConnectionError",
    "sealed": "ConnectionClosedError",
}


def _aws(records: list[dict], operation: str) -> list[dict]:
    return [r for r in records if r["kind"] == "aws" and r["operation"] == operation]


@pytest.mark.parametrize("path", list(PATHS))
def test_boto3_with_one_attempt_raises_what_it_raises_against_aws(
    path: str, tmp_path: Path
) -> None:
    options, strip = PATHS[path]
    journal = tmp_path / "j.jsonl"
    done = motobox(
        ["run", *options, "--scenario", str(HERE / "transport-faults.yaml"),
         "--journal", str(journal), "--", *strip, "env", "AWS_MAX_ATTEMPTS=1",
         "AWS_RETRY_MODE=standard", sys.executable, "-c", ONE_ATTEMPT],
        isolated=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"reset {RESET_ERROR[path]}",
        "hang ReadTimeoutError",
        "truncate ResponseStreamingError IncompleteRead(16 bytes read, 48 more expected)",
        "slowdown ClientError SlowDown 503 1 1000",
    ]
    records = read_journal(journal)
    (reset,) = _aws(records, "GetCallerIdentity")
    assert (reset["status"], reset["forced"].split("#")[1]) == (0, "rules[0]")
    assert reset["transport"] == {
        "effect": "reset",
        "when": "before",
        "head": False,
        "sent": 0,
        "length": 0,
        "complete": False,
        "reset": True,
    }
    (hang,) = _aws(records, "ListQueues")  # journaled when the client gave up
    assert hang["status"] == 0 and hang["transport"]["effect"] == "hang"
    assert not hang["transport"]["head"] and not hang["transport"]["reset"]
    (cut,) = _aws(records, "GetObject")
    assert cut["status"] == 200
    assert {k: cut["transport"][k] for k in ("effect", "head", "sent", "length", "complete")} == {
        "effect": "truncate",
        "head": True,
        "sent": 16,
        "length": 64,
        "complete": False,
    }
    (slow,) = _aws(records, "ListBuckets")
    assert (slow["status"], slow["error"], "transport" in slow) == (503, "SlowDown", False)


RETRIED = """
import boto3
me = boto3.client("sts").get_caller_identity()
print("sts", me["Account"], "retries", me["ResponseMetadata"]["RetryAttempts"])
listed = boto3.client("s3").list_buckets()
print("s3", len(listed["Buckets"]), "retries", listed["ResponseMetadata"]["RetryAttempts"])
"""


def test_boto3_standard_retries_a_reset_and_a_slowdown_and_the_journal_shows_both_attempts(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "j.jsonl"
    done = motobox(
        ["run", "--scenario", str(HERE / "transport-retried.yaml"), "--journal", str(journal),
         "--", "env", "AWS_RETRY_MODE=standard", sys.executable, "-c", RETRIED],
        isolated=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["sts 123456789012 retries 1", "s3 0 retries 1"]
    records = read_journal(journal)
    sts = _aws(records, "GetCallerIdentity")
    assert [(r["status"], r.get("transport", {}).get("effect")) for r in sts] == [
        (0, "reset"),
        (200, None),
    ]
    assert sts[0]["forced"].endswith("transport-retried.yaml#rules[0]") and not sts[1]["forced"]
    s3 = _aws(records, "ListBuckets")
    assert [(r["status"], r["error"]) for r in s3] == [(503, "SlowDown"), (200, None)]


def _connection_threads(port: int) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(f"motobox-cloud-{port}")]


def test_a_hung_call_ends_when_the_client_gives_up_and_when_the_cloud_stops() -> None:
    one = botocore.config.Config(read_timeout=0.5, retries={"total_max_attempts": 1})
    cloud = Cloud().start()
    try:
        port = cloud.server.port if cloud.server else 0
        sqs = cloud.client("sqs", config=one)
        rule = cloud.rules.add({"match": {"operation": "sqs:ListQueues"}, "hang": True})
        with pytest.raises(botocore.exceptions.ReadTimeoutError):
            sqs.list_queues()
        deadline = time.monotonic() + 10
        while not cloud.journal.calls("sqs:ListQueues") and time.monotonic() < deadline:
            time.sleep(0.02)  # journaled once the server sees the client close
        (first,) = cloud.journal.calls("sqs:ListQueues")
        assert first["transport"]["effect"] == "hang" and first["status"] == 0

        # A second client is still waiting when the cloud stops: its connection is closed.
        patient = botocore.config.Config(read_timeout=1, retries={"total_max_attempts": 1})
        waiting = cloud.client("sqs", config=patient)
        seen: list[BaseException] = []

        def call() -> None:
            try:
                waiting.list_queues()
            except BaseException as exc:
                seen.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        while time.monotonic() < deadline:
            (change,) = cloud.rules.list()
            if change["counts"][rule.sources[0]]["fired"] == 2:
                break
            time.sleep(0.01)
        cloud.stop()
        caller.join(5)
        assert not caller.is_alive()
        assert [type(e).__name__ for e in seen] == ["ConnectionClosedError"]
        assert [r["transport"]["effect"] for r in cloud.journal.calls("sqs:ListQueues")] == [
            "hang",
            "hang",
        ]
        assert _connection_threads(port) == []
    finally:
        cloud.stop()


def test_throttle_bandwidth_paces_the_body_and_the_client_gets_it_whole() -> None:
    with Cloud() as cloud:
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket="slow-bucket")
        s3.put_object(Bucket="slow-bucket", Key="k", Body=b"z" * 8000)
        with cloud.rules.add({"match": {"operation": "s3:GetObject"}, "throttle_bandwidth": 16000}):
            body = s3.get_object(Bucket="slow-bucket", Key="k")["Body"].read()
        assert body == b"z" * 8000
        (paced,) = cloud.journal.calls("s3:GetObject")
        assert paced["status"] == 200 and paced["forced"] == "live:1#rules[0]"
        transport = paced["transport"]
        assert (transport["sent"], transport["length"], transport["complete"]) == (8000, 8000, True)
        assert paced["ms"] >= 450  # 8000 bytes at 16000 a second: at least half a second


def test_the_aws_cli_reports_a_reset_and_a_truncated_download(tmp_path: Path) -> None:
    aws = require(AWS_CLI)
    journal = tmp_path / "j.jsonl"
    script = (
        f'{aws} sts get-caller-identity; echo "sts exit $?"; '
        f'{aws} s3 cp s3://faults-bucket/big.txt {tmp_path}/big.txt; echo "s3 exit $?"'
    )
    done = motobox(
        ["run", "--scenario", str(HERE / "transport-faults.yaml"), "--journal", str(journal),
         "--", "sh", "-c", script],
        isolated=True,
        timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "sts exit 255" in done.stdout and "s3 exit 1" in done.stdout
    assert "Connection was closed before we received a valid response from endpoint URL" in (
        done.stderr
    )
    assert "download failed: s3://faults-bucket/big.txt" in done.stderr
    records = read_journal(journal)
    resets = _aws(records, "GetCallerIdentity")
    assert len(resets) > 1 and all(r["transport"]["reset"] for r in resets)  # the CLI retried
    cuts = _aws(records, "GetObject")
    assert cuts and all(r["transport"]["sent"] == 16 for r in cuts)


@pytest.mark.parametrize("sealed", [False, True], ids=["endpoint", "sealed"])
def test_the_node_sdk_reports_a_reset_and_a_truncated_body(sealed: bool, tmp_path: Path) -> None:
    require(NODE_DIR / "node_modules" / ".stamp")
    journal = tmp_path / "j.jsonl"
    done = motobox(
        ["run", *(["--seal"] if sealed else []), "--scenario",
         str(HERE / "transport-faults.yaml"), "--journal", str(journal), "--",
         *(UNREDIRECTED if sealed else []), "node", str(NODE_DIR / "transport-faults.mjs")],
        isolated=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "reset: TimeoutError: ECONNRESET: read ECONNRESET",
        "truncate: Error: ECONNRESET: aborted",
    ]
    records = read_journal(journal)
    assert [r["transport"]["effect"] for r in _aws(records, "GetCallerIdentity")] == ["reset"]
    assert [r["transport"]["sent"] for r in _aws(records, "GetObject")] == [16]


STUBS = """
name: egress stubs that fail the transport
egress:
  - host: reset.example
    reset: true
  - url: https://cut.example/file.txt
    body: "0123456789"
    truncate: 4
"""


def test_egress_stubs_reset_and_cut_what_curl_fetches(tmp_path: Path) -> None:
    require(Path(shutil.which("curl") or "/usr/bin/curl"))
    scenario = tmp_path / "stubs.yaml"
    scenario.write_text(STUBS)
    journal = tmp_path / "j.jsonl"
    script = (
        'curl -sS https://reset.example/; echo "reset exit $?"; '
        'curl -sS https://cut.example/file.txt; echo " cut exit $?"'
    )
    done = motobox(
        ["run", "--scenario", str(scenario), "--journal", str(journal), "--", "sh", "-c", script],
        isolated=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["reset exit 56", "0123 cut exit 18"]
    assert "Connection reset by peer" in done.stderr
    assert "transfer closed with 6 bytes remaining to read" in done.stderr
    egress = [r for r in read_journal(journal) if r["kind"] == "egress"]
    assert [(r["url"], r["status"], r["transport"]["effect"]) for r in egress] == [
        ("https://reset.example/", 0, "reset"),
        ("https://cut.example/file.txt", 200, "truncate"),
    ]
    assert egress[1]["transport"]["sent"] == 4


def test_the_journal_of_faults_and_changes_fits_its_schema(tmp_path: Path) -> None:
    import jsonschema

    schema_path = Path(__file__).parents[1] / "src/motobox/scenario/schema/journal-1.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text()))
    with Cloud(scenarios=[HERE / "transport-retried.yaml"]) as cloud:
        config = botocore.config.Config(retries={"mode": "standard"})
        cloud.client("sts", config=config).get_caller_identity()
        one = cloud.client("sts", config=botocore.config.Config(retries={"total_max_attempts": 1}))
        cut = {"match": {"operation": "sts:GetCallerIdentity"}, "truncate": 5}
        with cloud.rules.add(cut), pytest.raises(botocore.parsers.ResponseParserError):
            one.get_caller_identity()
        kinds = [r["kind"] for r in cloud.journal.records]
        assert kinds == ["aws", "aws", "control", "aws", "control"]
        for record in cloud.journal.records:
            validator.validate(json.loads(json.dumps(record, default=str)))


DNS = """
name: names that fail in a sealed run
dns:
  - name: example.org
    answer: NXDOMAIN
  - name: flaky.example
    answer: SERVFAIL
    type: A
    times: 1
  - name: "*.dropped.example"
    answer: drop
"""


def test_sealed_names_answer_nxdomain_servfail_or_nothing_and_getent_and_curl_say_so(
    tmp_path: Path,
) -> None:
    require(Path(shutil.which("curl") or "/usr/bin/curl"))
    scenario = tmp_path / "dns.yaml"
    scenario.write_text(DNS)
    journal = tmp_path / "j.jsonl"
    script = (
        'getent hosts example.org; echo "getent $?"; '
        'curl -sS https://example.org/; echo "curl $?"; '
        'getent hosts flaky.example; echo "flaky $?"; '
        'getent hosts flaky.example; echo "flaky $?"; '
        'getent hosts a.dropped.example; echo "dropped $?"; '
        "getent hosts example.com"
    )
    done = motobox(
        ["run", "--seal", "--scenario", str(scenario), "--journal", str(journal), "--",
         *UNREDIRECTED, "sh", "-c", script],
        isolated=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [line.split() for line in done.stdout.splitlines()] == [
        ["getent", "2"],  # getent: "key could not be found"
        ["curl", "6"],
        ["flaky", "2"],  # SERVFAIL for the first A question
        ["127.0.0.1", "flaky.example"],  # then it resolves
        ["flaky", "0"],
        ["dropped", "2"],  # no answer: the resolver's timeout
        ["127.0.0.1", "example.com"],
    ]
    assert "curl: (6) Could not resolve host: example.org" in done.stderr
    dns = [r for r in read_journal(journal) if r["kind"] == "dns"]
    org = [r for r in dns if r["name"] == "example.org"]
    assert org and all(r["rcode"] == "NXDOMAIN" and r["forced"].endswith("#dns[0]") for r in org)
    flaky = [(r["type"], r.get("rcode"), r["answer"]) for r in dns if r["name"] == "flaky.example"]
    assert ("A", "SERVFAIL", None) in flaky and ("A", None, "127.0.0.1") in flaky
    dropped = [r for r in dns if r["name"] == "a.dropped.example"]
    assert dropped and all(r.get("dropped") is True for r in dropped)
    assert all(r["forced"] is None for r in dns if r["name"] == "example.com")
