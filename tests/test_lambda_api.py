"""What other emulators build on: ``motobox.emulation.lambdas.invoke`` (the CloudFormation
engine's custom resources call it), CloudFormation inline code in both runtimes, and the
``cfnresponse`` / ``cfn-response`` modules inline code uses to answer a custom resource."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lambda_code import create, invoke, runs
from motobox import Cloud
from motobox.emulation.context import RequestInfo, carried

ECHO = """
def handler(event, context):
    print("echo", event)
    return {"echo": event, "request_id": context.aws_request_id}
"""

NODE_INLINE = """
const response = require("cfn-response");
exports.handler = function (event, context) {
  console.log("answering", event.RequestType);
  response.send(event, context, response.SUCCESS, { Answer: 42 }, "node-physical-id");
};
"""

PYTHON_INLINE = """
import cfnresponse

def handler(event, context):
    cfnresponse.send(event, context, cfnresponse.FAILED, {"Why": "asked to"}, "py-physical-id")
"""

TEMPLATE = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"RoleName": "inline-role", "AssumeRolePolicyDocument": {}},
        },
        "NodeInline": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "node-inline",
                "Runtime": "nodejs24.x",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": NODE_INLINE},
            },
        },
        "PythonInline": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "python-inline",
                "Runtime": "python3.11",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": PYTHON_INLINE},
            },
        },
    }
}


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    with Cloud() as running:
        yield running


@pytest.fixture
def response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A ResponseURL on loopback, and the answers PUT to it."""
    answers: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            answers.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/answer?signature=x", answers
    finally:
        server.shutdown()
        server.server_close()


def request_info(cloud: Cloud) -> RequestInfo:
    assert cloud.gateway is not None
    return RequestInfo(cloud=cloud.gateway.cloud, account=cloud.account, region=cloud.region)


def test_the_public_api_invokes_in_a_carried_context(cloud: Cloud) -> None:
    from motobox.emulation.lambdas import FunctionNotFound
    from motobox.emulation.lambdas import invoke as run_function

    create(cloud, "api-echo", {"index.py": ECHO})
    with carried(request_info(cloud)):
        result = run_function(cloud.account, "us-east-1", "api-echo", b'{"RequestType": "Create"}')
        with pytest.raises(FunctionNotFound, match="no Lambda function 'nowhere'"):
            run_function(cloud.account, "us-east-1", "nowhere", b"{}")
    assert result.status_code == 200 and result.function_error is None
    assert result.status == "ok" and result.error is None
    assert json.loads(result.payload) == {
        "echo": {"RequestType": "Create"},
        "request_id": result.request_id,
    }
    assert result.log_tail.startswith(f"START RequestId: {result.request_id}")
    assert "echo {'RequestType': 'Create'}" in result.log_tail
    assert result.duration_ms > 0
    [record] = runs(cloud, "api-echo")
    assert record["request_id"] == result.request_id

    outside = run_function(cloud.account, "us-east-1", "api-echo", b"{}")  # no context
    assert outside.status == "unavailable" and outside.function_error == "Unhandled"
    assert "outside a motobox cloud" in (outside.error or {})["errorMessage"]


def test_inline_code_answers_a_custom_resource_with_either_module(
    cloud: Cloud, response_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, answers = response_url
    cfn = cloud.client("cloudformation")
    cfn.create_stack(StackName="inline", TemplateBody=json.dumps(TEMPLATE))
    event = {
        "RequestType": "Create",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/inline/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Custom",
        "ResourceProperties": {},
    }
    node = invoke(cloud, "node-inline", event)
    assert "FunctionError" not in node, node["Payload"]
    assert node["Payload"] is None  # context.done() without a result
    python = invoke(cloud, "python-inline", event)
    assert "FunctionError" not in python, python["Payload"]
    assert [a["path"] for a in answers] == ["/answer?signature=x"] * 2
    node_answer, python_answer = (a["body"] for a in answers)
    assert node_answer == {
        "Status": "SUCCESS",
        "Reason": node_answer["Reason"],
        "PhysicalResourceId": "node-physical-id",
        "StackId": event["StackId"],
        "RequestId": "req-1",
        "LogicalResourceId": "Custom",
        "NoEcho": False,
        "Data": {"Answer": 42},
    }
    assert node_answer["Reason"].startswith("See the details in CloudWatch Log Stream: ")
    assert python_answer["Status"] == "FAILED"
    assert python_answer["PhysicalResourceId"] == "py-physical-id"
    assert python_answer["Data"] == {"Why": "asked to"}
    [node_run] = runs(cloud, "node-inline")
    assert "answering Create" in node_run["output"] and "Status code: 200" in node_run["output"]


def test_a_node_handler_without_promise_or_callback_ends_when_idle(cloud: Cloud) -> None:
    create(
        cloud,
        "node-idle",
        {"index.js": "exports.handler = function (event) {\n"
                     "  setTimeout(() => console.log('later', event.n), 50);\n};\n"},
        runtime="nodejs24.x",
    )  # fmt: skip
    first, second = invoke(cloud, "node-idle", {"n": 1}), invoke(cloud, "node-idle", {"n": 2})
    assert first["Payload"] is None and second["Payload"] is None
    assert [r["output"] for r in runs(cloud, "node-idle")] == ["later 1\n", "later 2\n"]
    assert len({r["pid"] for r in runs(cloud, "node-idle")}) == 1  # still warm
