"""lambda:Invoke runs Python and Node.js functions on this machine's interpreters (no Docker):
their result, Lambda's error shape, the timeout, their environment, their own calls to the
cloud, their logs, and a clear failure for a runtime the machine lacks."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import AWS_CLI, NODE_DIR, require
from lambda_code import create, invoke, runs, wait_for
from motobox import Cloud

PYTHON = """
import importlib.util, json, os, time
import boto3

def handler(event, context):
    print("event", json.dumps(event, sort_keys=True))
    action = event.get("action")
    if action == "fail":
        raise ValueError("the answer is " + str(event["n"]))
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "s3":
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=event["bucket"])
        s3.put_object(Bucket=event["bucket"], Key="from-lambda",
                      Body=("written by " + context.function_name).encode())
        return {"account": boto3.client("sts").get_caller_identity()["Account"]}
    return {
        "event": event,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "greeting": os.environ.get("GREETING"),
        "region": os.environ.get("AWS_REGION"),
        "log_group": os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME"),
        "in_task_root": os.environ["LAMBDA_TASK_ROOT"] == os.getcwd(),
        "has_sdk": True,
        "has_moto": importlib.util.find_spec("moto") is not None,
    }
"""

NODE = """
const { S3Client, CreateBucketCommand, PutObjectCommand } = require("@aws-sdk/client-s3");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

exports.handler = async (event, context) => {
  console.log("event", JSON.stringify(event));
  if (event.action === "fail") throw new RangeError("the answer is " + event.n);
  if (event.action === "sleep") await new Promise((r) => setTimeout(r, event.seconds * 1000));
  if (event.action === "s3") {
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: event.bucket }));
    await s3.send(new PutObjectCommand({
      Bucket: event.bucket, Key: "from-lambda", Body: "written by " + context.functionName }));
    const me = await new STSClient({}).send(new GetCallerIdentityCommand({}));
    return { account: me.Account };
  }
  return {
    event,
    function_name: context.functionName,
    function_version: context.functionVersion,
    invoked_function_arn: context.invokedFunctionArn,
    memory_limit_in_mb: context.memoryLimitInMB,
    request_id: context.awsRequestId,
    remaining_ms: context.getRemainingTimeInMillis(),
    greeting: process.env.GREETING,
    region: process.env.AWS_REGION,
    log_group: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    in_task_root: process.env.LAMBDA_TASK_ROOT === process.cwd(),
    has_sdk: typeof S3Client === "function",
    has_moto: false,
  };
};
"""

RUNTIMES = {
    "python": ("python3.11", {"index.py": PYTHON}),
    "node": ("nodejs24.x", {"index.js": NODE}),
}


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    """One cloud for this file; Node functions find the SDK through NODE_PATH, as documented."""
    require(NODE_DIR / "node_modules" / "@aws-sdk" / "client-s3")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NODE_PATH", str(NODE_DIR / "node_modules"))
        with Cloud() as running:
            yield running


@pytest.fixture(params=sorted(RUNTIMES))
def function(request: pytest.FixtureRequest, cloud: Cloud) -> str:
    """A function of each runtime, created once per test."""
    runtime, files = RUNTIMES[request.param]
    name = f"{request.param}-{request.node.name.split('[')[0][5:40]}".replace("_", "-")
    create(cloud, name, files, runtime=runtime, timeout=1, env={"GREETING": "hello"})
    return name


def test_the_handler_gets_the_event_its_context_and_its_environment(
    cloud: Cloud, function: str
) -> None:
    answer = invoke(cloud, function, {"question": 6 * 7})
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    result = answer["Payload"]
    [record] = runs(cloud, function)
    assert result == {
        "event": {"question": 42},
        "function_name": function,
        "function_version": "$LATEST",
        "invoked_function_arn": f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
        "memory_limit_in_mb": "128",
        "request_id": record["request_id"],
        "remaining_ms": result["remaining_ms"],
        "greeting": "hello",
        "region": "us-east-1",
        "log_group": f"/aws/lambda/{function}",
        "in_task_root": True,
        "has_sdk": True,
        "has_moto": False,
    }
    assert 0 < result["remaining_ms"] <= 1000  # Timeout: 1 second
    assert record["status"] == "ok" and record["cold"] is True
    assert record["output"].startswith("event ")
    assert record["interpreter"].startswith("python3.11" if "python" in function else "node v")


def test_an_error_is_shaped_as_lambda_shapes_it(cloud: Cloud, function: str) -> None:
    answer = invoke(cloud, function, {"action": "fail", "n": 42})
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    error = answer["Payload"]
    assert error["errorMessage"] == "the answer is 42"
    if "python" in function:
        assert error["errorType"] == "ValueError"
        [frame] = error["stackTrace"]  # the function's frame only, not the runtime's
        assert 'index.py", line 9, in handler' in frame and "raise ValueError" in frame
    else:
        assert error["errorType"] == "RangeError"
        assert error["trace"][0] == "RangeError: the answer is 42"
        assert "index.js:7" in error["trace"][1]
        assert not any("bootstrap" in line for line in error["trace"])
    [record] = runs(cloud, function)
    assert record["status"] == "error" and record["error"] == error["errorType"]


def test_the_timeout_ends_the_invocation_and_its_process(cloud: Cloud, function: str) -> None:
    first = invoke(cloud, function, {"action": "sleep", "seconds": 60})
    assert first["FunctionError"] == "Unhandled"
    assert first["Payload"]["errorType"] == "Sandbox.Timedout"
    assert first["Payload"]["errorMessage"].endswith("Task timed out after 1.00 seconds")
    timed_out, again = runs(cloud, function)[0], invoke(cloud, function)
    assert again["Payload"]["function_name"] == function  # a new process answers
    second = runs(cloud, function)[1]
    assert timed_out["status"] == "timeout" and second["status"] == "ok"
    assert second["cold"] is True and second["pid"] != timed_out["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(timed_out["pid"], 0)


def test_the_function_calls_the_cloud_in_its_roles_account(cloud: Cloud, function: str) -> None:
    other: dict[str, Any] = {
        "aws_access_key_id": "MOTOBOX222233334444",
        "aws_secret_access_key": "x",
    }
    name = f"{function}-other"
    runtime, files = RUNTIMES["python" if "python" in function else "node"]
    create(cloud, name, files, runtime=runtime, **other)
    bucket = f"{name}-bucket"
    answer = invoke(cloud, name, {"action": "s3", "bucket": bucket}, client=other)
    assert "FunctionError" not in answer, answer["Payload"]
    assert answer["Payload"] == {"account": "222233334444"}
    s3 = cloud.client("s3", **other)
    body = s3.get_object(Bucket=bucket, Key="from-lambda")["Body"].read()
    assert body == f"written by {name}".encode()
    mine = [b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"]]
    assert bucket not in mine  # not in the cloud's default account
    [put] = cloud.journal.calls("s3:PutObject", params={"Bucket": bucket})
    assert put["account"] == "222233334444"


def test_output_reaches_cloudwatch_logs_and_the_tail(cloud: Cloud, function: str) -> None:
    answer = invoke(cloud, function, {"marker": "seen-in-logs"}, LogType="Tail")
    import base64

    tail = base64.b64decode(answer["LogResult"]).decode()
    [record] = runs(cloud, function)
    request_id = record["request_id"]
    assert tail.startswith(f"START RequestId: {request_id} Version: $LATEST")
    assert "seen-in-logs" in tail and f"END RequestId: {request_id}" in tail
    events = cloud.client("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{function}", filterPattern="seen-in-logs"
    )["events"]
    assert [e["message"] for e in events] == [
        'event {"marker": "seen-in-logs"}' if "python" in function
        else 'event {"marker":"seen-in-logs"}'
    ]  # fmt: skip
    report = cloud.client("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{function}", filterPattern="REPORT"
    )["events"]
    assert "Init Duration" in report[0]["message"]


def test_the_aws_cli_invokes_and_reads_the_logs(
    cloud: Cloud, function: str, tmp_path: Path
) -> None:
    aws = require(AWS_CLI)
    out = tmp_path / "out.json"
    done = cloud.run(
        [aws, "lambda", "invoke", "--function-name", function, "--payload", '{"via": "cli"}',
         str(out)]
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert json.loads(out.read_text())["event"] == {"via": "cli"}
    failed = cloud.run(
        [aws, "lambda", "invoke", "--function-name", function, "--payload",
         '{"action": "fail", "n": 7}', str(out)]
    )  # fmt: skip
    assert json.loads(failed.stdout)["FunctionError"] == "Unhandled"
    assert json.loads(out.read_text())["errorMessage"] == "the answer is 7"
    logs = cloud.run(
        [aws, "logs", "filter-log-events", "--log-group-name", f"/aws/lambda/{function}",
         "--filter-pattern", "cli"]
    )  # fmt: skip
    assert logs.exit_code == 0, logs.stderr
    messages = [e["message"] for e in json.loads(logs.stdout)["events"]]
    assert len(messages) == 1 and '"via"' in messages[0]


def test_event_invocations_run_in_the_background_and_dry_runs_not_at_all(
    cloud: Cloud, function: str
) -> None:
    dry = invoke(cloud, function, InvocationType="DryRun")
    assert dry["StatusCode"] == 204 and runs(cloud, function) == []
    queued = invoke(cloud, function, {"action": "s3", "bucket": f"{function}-event"},
                    InvocationType="Event")  # fmt: skip
    assert queued["StatusCode"] == 202 and queued["Payload"] is None
    [record] = wait_for(lambda: runs(cloud, function), "the Event invocation")
    assert record["invocation_type"] == "Event" and record["status"] == "ok"
    s3 = cloud.client("s3")
    assert s3.get_object(Bucket=f"{function}-event", Key="from-lambda")["Body"].read()


@pytest.mark.parametrize(
    "runtime, words",
    [
        ("java21", "a JVM"),
        ("dotnet8", ".NET"),
        ("ruby3.3", "Ruby"),
        ("provided.al2023", "a custom runtime"),
    ],
)
def test_a_runtime_this_machine_lacks_fails_at_once_with_the_reason(
    cloud: Cloud, runtime: str, words: str
) -> None:
    name = f"lacks-{runtime.replace('.', '-')}"
    create(cloud, name, {"Main.java": "class Main {}"}, runtime=runtime, handler="Main::handle")
    answer = invoke(cloud, name)
    assert answer["FunctionError"] == "Unhandled"
    error = answer["Payload"]
    assert error["errorType"] == "Motobox.RuntimeUnavailable"
    message = error["errorMessage"]
    assert f"runtime {runtime} (function {name})" in message and words in message
    assert "scenario rule" in message  # what to do
    [record] = runs(cloud, name)
    assert record["status"] == "unavailable" and record["pid"] is None


def test_a_container_image_and_a_missing_node_fail_with_the_reason(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    lam = cloud.client("lambda")
    image: dict[str, Any] = {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/f:1"}
    from lambda_code import role

    lam.create_function(FunctionName="an-image", Role=role(cloud), PackageType="Image", Code=image)
    error = invoke(cloud, "an-image")["Payload"]
    assert "container image, which needs Docker" in error["errorMessage"]
    create(cloud, "no-node", {"index.js": NODE}, runtime="nodejs24.x")
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))  # a PATH without node
    error = invoke(cloud, "no-node")["Payload"]
    assert error["errorType"] == "Motobox.RuntimeUnavailable"
    assert (
        "runtime nodejs24.x (function no-node): no working `node` on PATH" in error["errorMessage"]
    )


def test_another_python_runs_on_motobox_own_and_the_journal_says_so(
    cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = f"python3.{sys.version_info[1] + 1}"
    shim = tmp_path / wanted  # what pyenv leaves on PATH for a version it does not select
    shim.write_text(f'#!/bin/sh\necho "pyenv: {wanted}: command not found" >&2\nexit 127\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    create(cloud, "other-python", {"index.py": PYTHON}, runtime=wanted)
    answer = invoke(cloud, "other-python", {"n": 1})
    assert "FunctionError" not in answer and answer["Payload"]["event"] == {"n": 1}
    [record] = runs(cloud, "other-python")
    ours = f"python3.{sys.version_info[1]}"
    assert (record["runtime"], record["interpreter"]) == (wanted, ours)


@pytest.mark.parametrize(
    "runtime, files, message",
    [
        ("python3.11", {"index.py": "import nowhere\n"},
         "Unable to import module 'index': No module named 'nowhere'"),
        ("nodejs24.x", {"index.js": "require('nowhere');\n"},
         "Error: Cannot find module 'nowhere'"),
    ],
    ids=["python", "node"],
)  # fmt: skip
def test_an_import_error_fails_the_invocation_and_the_next_one_retries(
    cloud: Cloud, runtime: str, files: dict[str, str], message: str
) -> None:
    name = f"import-error-{runtime[:4]}"
    create(cloud, name, files, runtime=runtime)
    for _ in range(2):  # no worker is kept: each invocation tries the import again
        error = invoke(cloud, name)["Payload"]
        assert error["errorType"] == "Runtime.ImportModuleError"
        assert error["errorMessage"].startswith(message)
    first, second = runs(cloud, name)
    assert first["cold"] and second["cold"] and first["pid"] != second["pid"]


def test_code_from_s3_and_an_es_module_handler_that_imports_the_sdk(cloud: Cloud) -> None:
    from lambda_code import role, zipped

    module = (
        'import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";\n'
        "export const handler = async () =>\n"
        "  (await new STSClient({}).send(new GetCallerIdentityCommand({}))).Account;\n"
    )
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="function-code")
    s3.put_object(Bucket="function-code", Key="esm.zip", Body=zipped({"app.mjs": module}))
    cloud.client("lambda").create_function(
        FunctionName="esm-from-s3",
        Runtime="nodejs24.x",
        Role=role(cloud),
        Handler="app.handler",
        Code={"S3Bucket": "function-code", "S3Key": "esm.zip"},
    )
    answer = invoke(cloud, "esm-from-s3")
    assert "FunctionError" not in answer, answer["Payload"]
    assert answer["Payload"] == "123456789012"


OWN_LOG = """
import time
import boto3

logs = boto3.client("logs")


def handler(event, context):
    message = "waiting for events for request_id %s to propagate" % context.aws_request_id
    print(message)
    deadline = time.time() + 5
    while time.time() < deadline:
        found = logs.filter_log_events(
            logGroupName=context.log_group_name,
            logStreamNames=[context.log_stream_name],
            filterPattern='"%s"' % message,
        )["events"]
        if found:
            return {"found": True}
        time.sleep(0.2)
    return {"found": False}
"""


def test_a_function_reads_its_own_log_lines_while_it_runs(cloud: Cloud) -> None:
    """Lambda streams what a function prints to CloudWatch Logs as it prints it:
    quickstart-aws-acm-certificate's function waits for its own line before it answers a
    Delete; when the log was written only at the end, it waited until its timeout."""
    create(cloud, "own-log", {"index.py": OWN_LOG}, timeout=30)
    assert invoke(cloud, "own-log", {})["Payload"] == {"found": True}
    [record] = runs(cloud, "own-log")
    events = cloud.client("logs").filter_log_events(logGroupName="/aws/lambda/own-log")["events"]
    messages = [e["message"] for e in events]
    assert messages[0].startswith(f"START RequestId: {record['request_id']}")
    assert messages[1].startswith("waiting for events for request_id ")
    assert messages[-2] == f"END RequestId: {record['request_id']}"
    assert messages[-1].startswith(f"REPORT RequestId: {record['request_id']}")
