"""Lambda-backed custom resources, end to end and without Docker: CloudFormation's request goes
to a function that runs on this machine (``emulation.lambdas``), the function's cfnresponse /
cfn-response answer comes back to the cloud's own port, and the stack tells the story. Real
taskcat and the real AWS CLI (``cloudformation deploy``: a change set, as CDK and SAM deploy),
offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import AWS_CLI, ROOT, TASKCAT, motobox, read_journal, require
from taskcat_action.report import read_results

PROJECT = ROOT / "tests" / "projects" / "custom-resource"
BASE = ROOT / "scenarios" / "taskcat" / "base.yaml"

NODE_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
  Namer:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs24.x
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          const response = require("cfn-response");
          exports.handler = (event, context) => {
            const name = `${event.ResourceProperties.Prefix}-${event.RequestType.toLowerCase()}`;
            response.send(event, context, response.SUCCESS, {Name: name}, name);
          };
  Name:
    Type: Custom::Namer
    Properties:
      ServiceToken: !GetAtt Namer.Arn
      Prefix: !Ref Prefix
Parameters:
  Prefix: {Type: String}
Outputs:
  Name: {Value: !GetAtt Name.Name}
"""

JAVA_TEMPLATE = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: java21
      Handler: example.Handler::handleRequest
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "not used"}
  Thing:
    Type: Custom::Thing
    Properties:
      ServiceToken: !GetAtt Fn.Arn
"""


def test_taskcat_runs_a_python_custom_resource_create_and_delete(tmp_path: Path) -> None:
    require(TASKCAT)
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    journal, out = tmp_path / "j.jsonl", tmp_path / "outputs"
    script = (
        f"{TASKCAT} test run -n -o {out} -t answers; "
        "aws cloudformation describe-stacks --output json; "
        f"{TASKCAT} test clean custom-resource >/dev/null 2>&1; true"
    )
    done = motobox(
        ["run", "--scenario", str(BASE), "--journal", str(journal), "--", "sh", "-c", script],
        cwd=project,
        isolated=True,
        env=_with_cli_on_path(),
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    (result,) = read_results(out)
    assert result.status == "CREATE_COMPLETE"
    stacks = json.loads(done.stdout[done.stdout.index('{\n    "Stacks"') :])["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0]["Outputs"]}
    assert outputs == {"ImageId": "ami-0123456789abcdef0", "LookupId": "lookup-al2023"}
    records = read_journal(journal)
    invocations = [r for r in records if r["kind"] == "lambda"]
    assert [r["status"] for r in invocations] == ["ok", "ok"], invocations
    logs = "\n".join(r.get("output", "") for r in invocations)
    assert "request Create Lookup" in logs and "request Delete Lookup" in logs
    # The function called SSM in the cloud, in the stack's account, for both requests.
    puts = [r for r in records if r.get("operation") == "PutParameter"]
    assert [p["params"]["Name"] for p in puts] == ["/lookup/Create", "/lookup/Delete"]
    assert {p["account"] for p in puts} == {"123456789012"}


def test_a_custom_resource_answering_failed_fails_the_stack_with_its_reason(
    tmp_path: Path,
) -> None:
    require(TASKCAT)
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    out = tmp_path / "outputs"
    done = motobox(
        ["run", "--scenario", str(BASE), "--", str(TASKCAT), "test", "run", "-o", str(out),
         "-t", "fails"],
        cwd=project,
        isolated=True,
    )  # fmt: skip
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    (result,) = read_results(out)
    assert result.status == "CREATE_FAILED"
    assert "no image for family al2023" in (result.reason or ""), result.reason


def _with_cli_on_path() -> dict[str, str]:
    import os

    aws = Path(require(AWS_CLI))
    return {**os.environ, "PATH": f"{aws.parent}{os.pathsep}{os.environ['PATH']}"}


def _deploy(
    tmp_path: Path, template: str, *args: str, then: str = "Stacks[0].Outputs"
) -> tuple[int, str, list[dict]]:
    (tmp_path / "t.yaml").write_text(template)
    journal = tmp_path / "deploy.jsonl"
    query = (
        f"aws cloudformation describe-stacks --stack-name cr --query {then} --output json"
        if then.startswith("Stacks")
        else f"aws cloudformation describe-stack-events --stack-name cr --query '{then}' "
        "--output json"
    )
    done = motobox(
        ["run", "--journal", str(journal), "--", "sh", "-c",
         f"aws cloudformation deploy --template-file {tmp_path / 't.yaml'} "
         f"--stack-name cr {' '.join(args)}; echo deploy-exit=$?; {query}"],
        isolated=True,
        env=_with_cli_on_path(),
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, read_journal(journal)


def test_a_node_custom_resource_is_deployed_through_a_change_set(tmp_path: Path) -> None:
    code, output, records = _deploy(
        tmp_path, NODE_TEMPLATE, "--capabilities CAPABILITY_IAM", "--parameter-overrides",
        "Prefix=motobox",
    )  # fmt: skip
    assert code == 0 and "deploy-exit=0" in output, output[-3000:]
    after = output[output.index("deploy-exit=") :].split("\n", 1)[1]
    outputs = json.loads(after[: after.rindex("]") + 1])
    assert outputs == [{"OutputKey": "Name", "OutputValue": "motobox-create"}]
    (invocation,) = [r for r in records if r["kind"] == "lambda"]
    assert invocation["status"] == "ok" and invocation["runtime"] == "nodejs24.x"


def test_a_custom_resource_in_a_runtime_the_host_lacks_fails_at_once(tmp_path: Path) -> None:
    failed = (
        "StackEvents[?ResourceStatus==`CREATE_FAILED`].[LogicalResourceId,ResourceStatusReason]"
    )
    code, output, records = _deploy(
        tmp_path, JAVA_TEMPLATE, "--capabilities CAPABILITY_IAM", then=failed
    )
    assert "deploy-exit=255" in output, output[-3000:]
    after = output[output.index("deploy-exit=") :].split("\n", 1)[1]
    (thing,) = json.loads(after[: after.rindex("]") + 1])
    assert thing[0] == "Thing"
    assert "the function" in thing[1] and "failed before it answered" in thing[1]
    assert "java21" in thing[1], thing
    (invocation,) = [r for r in records if r["kind"] == "lambda"]
    assert invocation["status"] == "unavailable"  # at once: no wait for the function


BY_HOST_NAME_TEMPLATE = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
  Answerer:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Timeout: 5
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          // As AWS CDK's provider framework answers: https, the URL's host name and path only.
          const https = require("https");
          const url = require("url");
          exports.handler = async (event) => {
            const parsed = url.parse(event.ResponseURL);
            const body = JSON.stringify({
              Status: "SUCCESS", PhysicalResourceId: "by-host-name", StackId: event.StackId,
              RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId,
              Data: {Host: parsed.hostname},
            });
            await new Promise((resolve, reject) => {
              const request = https.request(
                {hostname: parsed.hostname, path: parsed.path, method: "PUT",
                 headers: {"content-type": "", "content-length": Buffer.byteLength(body)}},
                (response) => { response.resume(); response.on("end", resolve); });
              request.on("error", reject);
              request.end(body);
            });
          };
  Answer:
    Type: Custom::ByHostName
    Properties:
      ServiceToken: !GetAtt Answerer.Arn
Outputs:
  Host: {Value: !GetAtt Answer.Host}
"""

THROWS_TEMPLATE = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Timeout: 30
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          def handler(event, context):
              raise RuntimeError("no answer today")
  Thing:
    Type: Custom::Thing
    Properties:
      ServiceToken: !GetAtt Fn.Arn
"""


def test_a_node_handler_answering_https_by_host_name_is_heard(tmp_path: Path) -> None:
    """AWS CDK's custom resource handlers (S3 auto-delete, the Provider framework) PUT their
    answer with ``https.request({hostname, path})``: port 443, whatever the URL says. Node
    functions get an AWS-shaped ResponseURL, which reaches the cloud through the egress proxy
    (the Node.js runtime's agent). Before, the answer went to 127.0.0.1:443 (ECONNREFUSED)
    and the resource failed after the function's timeout."""
    code, output, records = _deploy(
        tmp_path, BY_HOST_NAME_TEMPLATE, "--capabilities CAPABILITY_IAM"
    )
    assert code == 0 and "deploy-exit=0" in output, output[-3000:]
    after = output[output.index("deploy-exit=") :].split("\n", 1)[1]
    outputs = json.loads(after[: after.rindex("]") + 1])
    host = "cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com"
    assert outputs == [{"OutputKey": "Host", "OutputValue": host}]
    (invocation,) = [r for r in records if r["kind"] == "lambda"]
    assert invocation["status"] == "ok", invocation
    assert not [r for r in records if r["kind"] == "egress"]  # the cloud answered, not egress


def test_a_function_that_throws_before_answering_fails_its_resource_at_once(
    tmp_path: Path,
) -> None:
    """motobox does not retry Event invocations, so a function that ends in an error without
    answering never will: the resource fails when the invocation ends, with its error, not
    after the function's timeout with "did not receive a response"."""
    failed = (
        "StackEvents[?ResourceStatus==`CREATE_FAILED`].[LogicalResourceId,ResourceStatusReason]"
    )
    code, output, records = _deploy(
        tmp_path, THROWS_TEMPLATE, "--capabilities CAPABILITY_IAM", then=failed
    )
    assert "deploy-exit=255" in output, output[-3000:]
    after = output[output.index("deploy-exit=") :].split("\n", 1)[1]
    (thing,) = json.loads(after[: after.rindex("]") + 1])
    assert thing[0] == "Thing"
    assert thing[1].startswith("Received no response from custom resource: the function "), thing
    assert "failed before it answered: RuntimeError: no answer today" in thing[1], thing
    (invocation,) = [r for r in records if r["kind"] == "lambda"]
    assert invocation["status"] == "error"
