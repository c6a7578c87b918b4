"""What the Serverless Framework (v3) deploys, as CloudFormation deploys it (each shape found
deploying serverless/examples services under motobox, and failing or answering wrong before
its fix): ``ValidateTemplate`` before every deployment, a bucket made for an ``s3`` event
(its ``NotificationConfiguration``), a bucket that still holds objects when the stack goes,
``Policy: ""`` on every REST API, and a ``schedule`` event's rule."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lambda_code import runs
from motobox.cloud import Cloud
from motobox.emulation.cloudformation import summary

DEPRECATED_RUNTIME = """
Description: The AWS CloudFormation template for this Serverless application
Parameters:
  Stage: {Type: String, Default: dev, Description: the stage}
  Secret: {Type: String, NoEcho: true}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Action: sts:AssumeRole, Principal: {Service: lambda.amazonaws.com}}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.9
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "def handler(event, context): return 1"}
      Environment: {Variables: {STAGE: !Ref Stage}}
"""


def test_validate_template_passes_what_cfn_lint_only_warns_about() -> None:
    """moto answered ``Stack with id Runtime 'python3.9' was deprecated on ... does not
    exist``: cfn-lint's first warning, in the place of a stack name."""
    with Cloud() as cloud:
        answer = cloud.client("cloudformation").validate_template(TemplateBody=DEPRECATED_RUNTIME)
    assert answer["Description"].startswith("The AWS CloudFormation template")
    assert answer["Parameters"] == [
        {
            "ParameterKey": "Stage",
            "DefaultValue": "dev",
            "NoEcho": False,
            "Description": "the stage",
        },
        {"ParameterKey": "Secret", "NoEcho": True},
    ]
    assert answer["Capabilities"] == ["CAPABILITY_IAM"]
    assert answer["CapabilitiesReason"] == (
        "The following resource(s) require capabilities: [AWS::IAM::Role]"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Ref Nope}\n",
            "Template format error: Unresolved resource dependencies [Nope] in the Resources "
            "block of the template",
        ),
        ("Outputs: {}\n", "Template format error: At least one Resources member must be defined."),
        ("[1, 2]\n", "Template format error: a template is a JSON or YAML object"),
    ],
)
def test_validate_template_refuses_what_cloudformation_refuses(body: str, message: str) -> None:
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        with pytest.raises(cfn.exceptions.ClientError) as raised:
            cfn.validate_template(TemplateBody=body)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert raised.value.response["Error"]["Message"] == message


S3_EVENT = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Action: sts:AssumeRole, Principal: {Service: lambda.amazonaws.com}}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          def handler(event, context):
              print("GOT", event["Records"][0]["s3"]["object"]["size"])
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !GetAtt Fn.Arn
      Action: lambda:InvokeFunction
      Principal: s3.amazonaws.com
  Uploads:  # what `events: [{s3: {bucket: uploads, rules: [{suffix: .png}]}}]` makes
    Type: AWS::S3::Bucket
    DependsOn: Permission
    Properties:
      BucketName: probe-uploads
      VersioningConfiguration: {Status: Enabled}
      CorsConfiguration: {CorsRules: [{AllowedMethods: [GET], AllowedOrigins: ["*"]}]}
      LifecycleConfiguration: {Rules: [{Status: Enabled, ExpirationInDays: 1}]}
      LoggingConfiguration: {LogFilePrefix: logs/}
      PublicAccessBlockConfiguration: {BlockPublicAcls: true, RestrictPublicBuckets: true}
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Fn.Arn
            Filter: {S3Key: {Rules: [{Name: suffix, Value: .png}]}}
"""


def _status(cfn: Any, name: str) -> tuple[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return stack["StackStatus"], stack.get("StackStatusReason", "")


def test_a_buckets_notifications_run_its_function_and_its_other_parts_are_reported() -> None:
    with Cloud() as cloud:
        cfn, s3 = cloud.client("cloudformation"), cloud.client("s3")
        cfn.create_stack(
            StackName="uploads", TemplateBody=S3_EVENT, Capabilities=["CAPABILITY_IAM"]
        )
        assert _status(cfn, "uploads")[0] == "CREATE_COMPLETE"
        function = cfn.describe_stack_resource(StackName="uploads", LogicalResourceId="Fn")
        name = function["StackResourceDetail"]["PhysicalResourceId"]
        configured = s3.get_bucket_notification_configuration(Bucket="probe-uploads")
        assert [c["Events"] for c in configured["LambdaFunctionConfigurations"]] == [
            ["s3:ObjectCreated:*"]
        ]
        assert s3.get_bucket_versioning(Bucket="probe-uploads")["Status"] == "Enabled"
        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket="probe-uploads")["Rules"]
        assert [(r["Status"], r["Expiration"]) for r in lifecycle] == [("Enabled", {"Days": 1})]
        block = s3.get_public_access_block(Bucket="probe-uploads")
        assert block["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        }
        s3.put_object(Bucket="probe-uploads", Key="skipped.txt", Body=b"no")
        s3.put_object(Bucket="probe-uploads", Key="a.png", Body=b"12345")
        deadline = time.monotonic() + 30
        while not runs(cloud, name) and time.monotonic() < deadline:
            time.sleep(0.1)
        records = cloud.journal.records
    assert [(r["invocation_type"], r["status"], r["output"]) for r in runs(cloud, name)] == [
        ("Event", "ok", "GOT 5\n")
    ]
    assert summary.lines(records) == [
        "stack uploads: 1 of 4 resources not emulated by moto: "
        "AWS::S3::Bucket (CorsConfiguration, LoggingConfiguration)"
    ]


def test_a_bucket_that_holds_objects_fails_its_deletion() -> None:
    """moto kept the bucket and every event said DELETE_COMPLETE."""
    template = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: kept}\n"
    with Cloud() as cloud:
        cfn, s3 = cloud.client("cloudformation"), cloud.client("s3")
        cfn.create_stack(StackName="full", TemplateBody=template)
        s3.put_object(Bucket="kept", Key="k", Body=b"x")
        cfn.delete_stack(StackName="full")
        status, reason = _status(cfn, "full")
        assert status == "DELETE_FAILED"
        assert reason == "The following resource(s) failed to delete: [B]. "
        events = cfn.describe_stack_events(StackName="full")["StackEvents"]
        failed = [
            e
            for e in events
            if e["ResourceStatus"] == "DELETE_FAILED" and e.get("LogicalResourceId") == "B"
        ]
        assert "The bucket you tried to delete is not empty" in failed[0]["ResourceStatusReason"]
        s3.delete_object(Bucket="kept", Key="k")
        cfn.delete_stack(StackName="full")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []
        with pytest.raises(cfn.exceptions.ClientError):
            cfn.describe_stacks(StackName="full")


SCHEDULE_AND_API = """
Resources:
  Api:  # every REST API the Serverless Framework makes
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: dev-service, EndpointConfiguration: {Types: [EDGE]}, Policy: ""}
  Rule:  # `events: [{schedule: rate(1 minute)}]`
    Type: AWS::Events::Rule
    Properties: {ScheduleExpression: rate(1 minute), State: ENABLED}
"""


def test_an_empty_api_policy_is_not_reported_and_a_schedule_is() -> None:
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="cron", TemplateBody=SCHEDULE_AND_API)
        assert _status(cfn, "cron")[0] == "CREATE_COMPLETE"
        records = cloud.journal.records
    assert summary.lines(records) == [
        "stack cron: 1 of 2 resources not emulated by moto: AWS::Events::Rule (ScheduleExpression)"
    ]


def test_strict_mode_fails_a_schedule_with_its_reason() -> None:
    with Cloud(strict=True) as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="cron", TemplateBody=SCHEDULE_AND_API)
        events = cfn.describe_stack_events(StackName="cron")["StackEvents"]
    reasons = [
        e.get("ResourceStatusReason", "") for e in events if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert any("its ScheduleExpression is not emulated by moto" in r for r in reasons), reasons
    assert any("the rule never fires on its schedule" in r for r in reasons), reasons
