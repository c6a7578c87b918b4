"""What moto answers without doing the work is named, never passed off as done: a Step
Functions execution moto does not run is journaled ``"emulation": "partial"`` and summed up
at the end of the run; a URL moto has no handler for (an API Gateway invoke URL) gets a
``NotImplemented`` 501 in the service's protocol instead of an HTML 404."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from motobox.cloud import Cloud
from motobox.emulation.cloudformation import summary

DEFINITION = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:missing",
            "End": True,
        }
    },
}


def test_a_step_functions_execution_moto_does_not_run_is_named() -> None:
    with Cloud() as cloud:
        sfn = cloud.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="flow",
            definition=json.dumps(DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        (record,) = cloud.journal.calls("stepfunctions:StartExecution")
        assert record["emulation"] == "partial"
        assert "does not run the execution" in record["message"]
        assert summary.lines(cloud.journal.records) == [
            "1 calls were answered without moto doing the work (see the journal's message): "
            "stepfunctions:StartExecution"
        ]


def _post(url: str, host: str, signed: bool) -> urllib.error.HTTPError:
    request = botocore.awsrequest.AWSRequest("POST", url, data=b"{}", headers={"Host": host})
    if signed:  # an API with AWS_IAM authorization: SigV4 for execute-api
        credentials = botocore.credentials.Credentials("AKIAIOSFODNN7EXAMPLE", "secret")
        botocore.auth.SigV4Auth(credentials, "execute-api", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(url, data=b"{}", method="POST")
    for name, value in request.headers.items():
        prepared.add_header(name, value)
    try:
        urllib.request.urlopen(prepared, timeout=10)
    except urllib.error.HTTPError as error:
        return error
    raise AssertionError("answered 2xx")


def test_an_api_gateway_invoke_url_is_refused_as_not_emulated() -> None:
    host = "abc123.execute-api.us-east-1.amazonaws.com"
    with Cloud() as cloud:
        for signed in (False, True):
            error = _post(f"{cloud.endpoint_url}/Prod/items", host, signed)
            assert error.code == 501
            body = json.loads(error.read())
            assert body["__type"] == "NotImplemented"
            assert f"moto has no handler for POST {host}/Prod/items" in body["Message"]
        records = cloud.journal.calls()
        assert [(r["service"], r["status"], r["emulation"]) for r in records] == [
            ("apigatewaymanagementapi", 501, "refused")
        ] * 2
        assert summary.lines(cloud.journal.records) == [
            "2 calls to operations moto does not emulate were refused (NotImplemented, 501): "
            "apigatewaymanagementapi (2)"
        ]
