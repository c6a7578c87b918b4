"""Where Node.js functions find the AWS SDK for JavaScript v3, which Lambda's runtime ships:
the first ``NODE_PATH`` folder holding ``@aws-sdk``, else the nearest ``node_modules/@aws-sdk``
above the folder motobox started in (a CDK project's own ``node_modules``: ``motobox serve``
started there needs no setting). Without either, a function that needs the SDK fails with
words that say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NODE_DIR, require
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
