"""One cloud across commands: ``eval "$(motobox serve --detach)"``, any number of
``motobox run`` (and plain commands) against it, ``eval "$(motobox stop)"``. Before, each
``motobox run`` found an empty cloud and ``motobox serve``'s lines could not be eval'ed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AWS_CLI, offline, read_journal, require
from motobox.attach import AttachedCloud
from motobox.cloud import Cloud
from motobox.errors import UsageError

SCRIPT = """
set -e
eval "$(motobox serve --detach --journal "$WORK/cloud.jsonl")"
echo "cloud $MOTOBOX_CLOUD"
motobox run -- aws s3 mb s3://shared-bucket
motobox run --journal "$WORK/second.jsonl" --scenario "$WORK/expect.yaml" -- aws s3 ls
aws s3 ls                      # a plain command, through the exported variables
pid=$(curl -s "$MOTOBOX_CLOUD/_motobox/cloud" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
eval "$(motobox stop)"
echo "after stop: [${MOTOBOX_CLOUD:-}] [${AWS_ENDPOINT_URL:-}]"
for i in $(seq 50); do
  kill -0 "$pid" 2>/dev/null || { echo "serve ended"; exit 0; }; sleep 0.1
done
echo "serve still runs"; exit 1
"""

EXPECT = """
expect:
  exit_code: 0
  calls: [{operation: "s3:ListBuckets", count: 1}]
  no_calls: [{operation: "s3:CreateBucket"}]
"""


def test_commands_share_one_cloud_started_in_the_background(tmp_path: Path) -> None:
    aws = Path(require(AWS_CLI))
    (tmp_path / "expect.yaml").write_text(EXPECT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTOBOX_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(aws.parent), env["PATH"]])
    env["WORK"] = str(tmp_path)
    done = subprocess.run(
        offline(["bash", "-c", SCRIPT]), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("cloud http://127.0.0.1:")
    assert "make_bucket: shared-bucket" in lines
    assert sum("shared-bucket" in line for line in lines) == 3  # made, then seen twice
    assert "after stop: [] []" in lines and lines[-1] == "serve ended"
    assert "motobox: 3 of 3 expectations hold" in done.stderr
    whole = read_journal(tmp_path / "cloud.jsonl")
    ops = [f"{r['service']}:{r['operation']}" for r in whole if r["kind"] == "aws"]
    assert ops == ["s3:CreateBucket", "s3:ListBuckets", "s3:ListBuckets"]
    second = read_journal(tmp_path / "second.jsonl")
    assert [r["seq"] for r in second] == [whole[1]["seq"]]  # the run's slice, the cloud's seq


def test_a_python_program_attaches_to_a_running_cloud(tmp_path: Path) -> None:
    with Cloud(account="210987654321") as serving:
        serving.client("sqs").create_queue(QueueName="made-by-the-server")
        with AttachedCloud(serving.endpoint_url, journal=tmp_path / "j.jsonl") as attached:
            assert attached.account == "210987654321"  # the running cloud's
            done = attached.run(
                [sys.executable, "-c", "import boto3; print(boto3.client('sqs').list_queues())"]
            )
    assert done.exit_code == 0, done.stderr
    assert "made-by-the-server" in done.stdout
    assert [r["operation"] for r in read_journal(tmp_path / "j.jsonl")] == ["ListQueues"]


def test_no_cloud_at_the_url_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "motobox", "run", "--cloud", "http://127.0.0.1:9", "--", "true"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("motobox: no motobox answers at http://127.0.0.1:9")
    assert len(done.stderr.strip().splitlines()) == 1
    stop = subprocess.run(
        [sys.executable, "-m", "motobox", "stop"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "MOTOBOX_CLOUD"},
    )
    assert (stop.returncode, stop.stderr) == (
        2,
        "motobox: which cloud? give --cloud URL or set MOTOBOX_CLOUD\n",
    )


SEALED = """
set -e
eval "$(motobox serve --detach --seal --journal "$WORK/cloud.jsonl")"
U="env -u AWS_ENDPOINT_URL -u AWS_DATA_PATH"
U="$U -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy"
motobox run --seal -- $U aws s3 mb s3://sealed-shared
motobox run --seal -- $U sh -c 'aws s3 ls; ip -o link | wc -l'
motobox run --seal -- $U curl -s -o /dev/null -w '%{http_code}\\n' https://example.com/
eval "$(motobox stop)"
"""


def test_sealed_runs_join_the_sealed_namespace_of_a_running_cloud(tmp_path: Path) -> None:
    """``motobox serve --seal`` hands its namespaces to ``motobox run --cloud URL --seal``: no
    endpoint or proxy variable, only loopback, DNS and egress answered by the serving cloud."""
    aws = Path(require(AWS_CLI))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTOBOX_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(aws.parent), env["PATH"]])
    env["WORK"] = str(tmp_path)
    done = subprocess.run(
        offline(["bash", "-c", SEALED]), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == "make_bucket: sealed-shared"
    assert done.stdout.splitlines()[1].endswith("sealed-shared")
    assert done.stdout.splitlines()[2:] == ["1", "403"]  # lo only; example.com denied
    records = read_journal(tmp_path / "cloud.jsonl")
    assert records[0]["kind"] == "seal"
    names = {r["name"] for r in records if r["kind"] == "dns"}
    assert {"s3.amazonaws.com", "example.com"} <= names, names
    ops = [r["operation"] for r in records if r["kind"] == "aws"]
    assert ops == ["CreateBucket", "ListBuckets"]


def test_a_sealed_run_needs_a_sealed_cloud(tmp_path: Path) -> None:
    with Cloud() as serving, pytest.raises(UsageError, match="needs a sealed cloud"):
        AttachedCloud(serving.endpoint_url, seal=True).start()


def test_serve_stops_on_sigint_even_when_started_with_sigint_ignored() -> None:
    """A script's ``motobox serve &`` (no job control) starts with SIGINT ignored, and Python
    then installs no KeyboardInterrupt: serve went on running after ``kill -INT``."""
    import signal

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTOBOX_"))}
    serve = subprocess.Popen(
        offline([sys.executable, "-m", "motobox", "serve"]),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert serve.stdout is not None
        for line in serve.stdout:  # the export lines: the cloud answers
            if line.startswith("unset "):
                break
        os.kill(serve.pid, signal.SIGINT)  # unshare and sh exec: serve.pid is motobox's
        assert serve.wait(timeout=20) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
