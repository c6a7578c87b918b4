"""Where Node.js functions find the AWS SDK for JavaScript v3, which Lambda's runtime ships:
the first ``NODE_PATH`` folder holding ``@aws-sdk``, else the nearest ``node_modules/@aws-sdk``
above the folder motobox started in (a CDK project's own ``node_modules``: ``motobox serve``
started there needs no setting). Without either, a function that needs the SDK fails with
words that say so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NODE_DIR, offline, require
from lambda_code import create, invoke
from motobox import Cloud

NEEDS_SDK = {
    "index.js": 'const { S3Client, ListBucketsCommand } = require("@aws-sdk/client-s3");\n'
    "exports.handler = async () => {\n"
    "  const answer = await new S3Client({}).send(new ListBucketsCommand({}));\n"
    "  return answer.Buckets.map((b) => b.Name);\n"
    "};\n"
}


def test_a_node_function_finds_the_sdk_in_the_project_motobox_started_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdk = Path(require(NODE_DIR / "node_modules" / "@aws-sdk" / "client-s3")).parents[1]
    project = tmp_path / "project"
    (project / "lib").mkdir(parents=True)
    (project / "node_modules").symlink_to(sdk)
    monkeypatch.delenv("NODE_PATH", raising=False)
    monkeypatch.chdir(project / "lib")  # Node's own walk up finds ../node_modules
    with Cloud() as cloud:
        cloud.client("s3").create_bucket(Bucket="seen-by-the-function")
        create(cloud, "lists", NEEDS_SDK, runtime="nodejs20.x", timeout=30)
        answer = invoke(cloud, "lists")
    assert "FunctionError" not in answer, answer["Payload"]
    assert answer["Payload"] == ["seen-by-the-function"]


def test_a_node_function_without_an_sdk_is_told_where_motobox_looks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NODE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    with Cloud() as cloud:
        create(cloud, "lists", NEEDS_SDK, runtime="nodejs20.x", timeout=30)
        answer = invoke(cloud, "lists")
    error = answer["Payload"]
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "Cannot find module '@aws-sdk/client-s3'" in error["errorMessage"]
    assert (
        "(motobox: Lambda's Node.js runtime ships the AWS SDK for JavaScript v3;"
        in (error["errorMessage"])
    )
    assert (
        "nearest node_modules/@aws-sdk above the folder motobox started in"
        in (error["errorMessage"])
    )


def test_an_sdk_installed_after_the_cloud_started_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hint above says to install it there: a run that does so (``npm install`` while the
    cloud serves) is heard without a restart."""
    sdk = Path(require(NODE_DIR / "node_modules" / "@aws-sdk" / "client-s3")).parents[1]
    monkeypatch.delenv("NODE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    with Cloud() as cloud:
        create(cloud, "before", NEEDS_SDK, runtime="nodejs20.x", timeout=30)
        assert invoke(cloud, "before")["FunctionError"] == "Unhandled"
        (tmp_path / "node_modules").symlink_to(sdk)  # npm install, after the start
        create(cloud, "after", NEEDS_SDK, runtime="nodejs20.x", timeout=30)
        answer = invoke(cloud, "after")
    assert "FunctionError" not in answer, answer["Payload"]
    assert answer["Payload"] == []


def test_a_node_function_sees_the_sdk_and_not_the_projects_other_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda's Node.js runtime ships the SDK v3 and what it needs, nothing else: a function
    that requires ``aws-sdk`` (v2, which the Serverless Framework v3 itself depends on, so it
    lies beside the SDK in a project's node_modules) or any package it did not bundle fails
    there. It found the whole folder here, so it passed."""
    sdk = Path(require(NODE_DIR / "node_modules" / "@aws-sdk" / "client-s3")).parents[1]
    project = tmp_path / "project" / "node_modules"
    project.mkdir(parents=True)
    for entry in sdk.iterdir():
        (project / entry.name).symlink_to(entry)
    (project / "left-pad").mkdir()
    (project / "left-pad" / "package.json").write_text('{"name": "left-pad"}')
    (project / "left-pad" / "index.js").write_text("module.exports = 1;")
    monkeypatch.delenv("NODE_PATH", raising=False)
    monkeypatch.chdir(project.parent)
    bundled = {
        "index.js": 'exports.handler = async () => require("left-pad");\n',
        "node_modules/left-pad/index.js": "module.exports = 2;\n",
    }
    with Cloud() as cloud:
        create(cloud, "lists", NEEDS_SDK, runtime="nodejs20.x", timeout=30)
        create(cloud, "unbundled", {"index.js": bundled["index.js"]}, runtime="nodejs20.x")
        create(cloud, "bundled", bundled, runtime="nodejs20.x")
        listed, unbundled, own = (invoke(cloud, n) for n in ("lists", "unbundled", "bundled"))
    assert "FunctionError" not in listed, listed["Payload"]
    assert unbundled["FunctionError"] == "Unhandled"
    assert "Cannot find module 'left-pad'" in unbundled["Payload"]["errorMessage"]
    assert own["Payload"] == 2


AWS_HOST_CODE = {
    "index.js": 'const { S3Client, ListBucketsCommand } = require("@aws-sdk/client-s3");\n'
    "exports.handler = async () => {\n"
    '  const s3 = new S3Client({ endpoint: "https://s3.us-east-1.amazonaws.com" });\n'
    "  const answer = await s3.send(new ListBucketsCommand({}));\n"
    "  return answer.Buckets.map((b) => b.Name);\n"
    "};\n"
}


def _aws_host_probe() -> None:
    """Runs in a loopback-only namespace (the test below): were the function's client to leave
    the egress control, it could reach no real S3. Prints what the function answered."""
    with Cloud() as cloud:
        cloud.client("s3").create_bucket(Bucket="reached-through-aws-host")
        create(cloud, "aws-host", AWS_HOST_CODE, runtime="nodejs20.x", timeout=30)
        answer = invoke(cloud, "aws-host")
        calls = len(cloud.journal.calls("s3:ListBuckets"))
    print(json.dumps({"answer": answer, "calls": calls}))


def test_a_node_sdk_client_sent_to_an_aws_host_reaches_the_cloud() -> None:
    """The SQS client sends to the host of the QueueUrl it is given (a stack's ``Ref``,
    ``https://sqs.REGION.amazonaws.com/...``), not to AWS_ENDPOINT_URL, through an agent of its
    own: only the global agent went through the egress control, and the call failed with
    ``getaddrinfo ENOTFOUND``. An S3 client given S3's own endpoint does the same."""
    env = dict(os.environ, NODE_PATH=require(NODE_DIR / "node_modules"))
    code = (
        f"import sys; sys.path[:0] = [{str(Path(__file__).parent)!r}]; "
        "import test_lambda_node_sdk; test_lambda_node_sdk._aws_host_probe()"
    )
    done = subprocess.run(
        offline([sys.executable, "-c", code]), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    probed = json.loads(done.stdout.strip().splitlines()[-1])
    answer = probed["answer"]
    assert "FunctionError" not in answer, answer["Payload"]
    assert answer["Payload"] == ["reached-through-aws-host"]
    assert probed["calls"] >= 1
