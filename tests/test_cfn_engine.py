"""The stack engine in-process: events in dependency order, a failing resource fails its stack
(not the region), nested stacks, stubs for what moto does not model, strict mode, dynamic
references, custom resources answered by a scenario or by a function's PUT."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.exceptions
import pytest

from motobox.cloud import Cloud
from motobox.emulation.cloudformation import custom, engine


def _events(cfn: Any, stack: str) -> list[tuple[str, str, str]]:
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    return [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason") or "")
        for e in reversed(events)
    ]


def _status(cfn: Any, stack: str) -> dict[str, Any]:
    return dict(cfn.describe_stacks(StackName=stack)["Stacks"][0])


ORDERED = """
Resources:
  Subscriber:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${Topic.TopicName}-queue"
  Topic:
    Type: AWS::SNS::Topic
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /ordered/queue
      Type: String
      Value: !GetAtt Subscriber.Arn
"""


def test_resource_events_follow_sub_and_getatt_dependencies() -> None:
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="ordered", TemplateBody=ORDERED)
        assert _status(cfn, "ordered")["StackStatus"] == "CREATE_COMPLETE"
        assert [(r, s) for r, s, _ in _events(cfn, "ordered")] == [
            ("ordered", "CREATE_IN_PROGRESS"),
            ("Topic", "CREATE_IN_PROGRESS"),
            ("Topic", "CREATE_COMPLETE"),
            ("Subscriber", "CREATE_IN_PROGRESS"),
            ("Subscriber", "CREATE_COMPLETE"),
            ("Param", "CREATE_IN_PROGRESS"),
            ("Param", "CREATE_COMPLETE"),
            ("ordered", "CREATE_COMPLETE"),
        ]


FAILING = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
    DependsOn: Queue
Outputs:
  TopicArn:
    Value: !Ref Topic
"""


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise TypeError("unsupported operand type(s) for +: 'NoneType' and 'str'")


@pytest.mark.parametrize(
    ("options", "final"),
    [({"OnFailure": "DO_NOTHING"}, "CREATE_FAILED"), ({}, "ROLLBACK_COMPLETE")],
)
def test_a_resource_moto_fails_on_fails_the_stack_not_the_region(
    options: dict[str, Any], final: str
) -> None:
    from moto.sns.models import Topic

    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        with mock.patch.object(Topic, "create_from_cloudformation_json", _boom):
            cfn.create_stack(StackName="broken", TemplateBody=FAILING, **options)
        stack = _status(cfn, "broken")
        assert stack["StackStatus"] == final
        assert "Outputs" not in stack
        events = _events(cfn, "broken")
        reason = (
            "Topic (AWS::SNS::Topic): moto 5.2.5 failed: TypeError: unsupported operand "
            "type(s) for +: 'NoneType' and 'str'"
        )
        assert ("Topic", "CREATE_FAILED", reason) in events
        assert (
            "broken",
            final if final == "CREATE_FAILED" else "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create: [Topic]. "
            + ("" if final == "CREATE_FAILED" else "Rollback requested by user."),
        ) in events
        sqs = cloud.client("sqs")
        if final == "ROLLBACK_COMPLETE":  # the queue made before the failure is gone again
            assert ("Queue", "DELETE_COMPLETE", "") in events
            assert not sqs.list_queues().get("QueueUrls")
        # The region still answers, and the stack can be deleted.
        assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == ["broken"]
        cfn.create_stack(StackName="next", TemplateBody=FAILING)
        assert _status(cfn, "next")["StackStatus"] == "CREATE_COMPLETE"
        cfn.delete_stack(StackName="broken")
        assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == ["next"]


CHILD_FAILS = """
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /child/setting
      Type: String
      Value: "{{resolve:ssm:/nowhere/to/be/found}}"
"""

PARENT = """
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://templates.s3.us-east-1.amazonaws.com/child.yaml
"""


@pytest.mark.parametrize("options", [{"DisableRollback": True}, {}])
def test_a_failed_child_stack_fails_its_parent_in_cloudformations_words(
    options: dict[str, Any],
) -> None:
    with Cloud() as cloud:
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket="templates")
        s3.put_object(Bucket="templates", Key="child.yaml", Body=CHILD_FAILS.encode())
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="parent", TemplateBody=PARENT, **options)
        parent = _status(cfn, "parent")
        (child_id,) = [
            s["StackId"]
            for s in cfn.list_stacks()["StackSummaries"]
            if s["StackName"].startswith("parent-Child-")
        ]
        child = cfn.describe_stacks(StackName=child_id)["Stacks"][0]
        assert child["ParentId"] == parent["StackId"]
        failed = [e for e in _events(cfn, "parent") if e[:2] == ("Child", "CREATE_FAILED")]
        assert failed == [
            (
                "Child",
                "CREATE_FAILED",
                f"Embedded stack {child['StackId']} was not successfully created: "
                "The following resource(s) failed to create: [Setting]. ",
            )
        ]
        child_events = _events(cfn, child["StackId"])
        assert (
            "Setting",
            "CREATE_FAILED",
            "Parameters: [ssm:/nowhere/to/be/found] cannot be found.",
        ) in child_events
        if options:
            assert parent["StackStatus"] == "CREATE_FAILED"
            assert child["StackStatus"] == "CREATE_FAILED"
        else:  # the child rolled back, then the parent's rollback deleted it
            assert parent["StackStatus"] == "ROLLBACK_COMPLETE"
            assert child["StackStatus"] == "DELETE_COMPLETE"


STUBBED = """
Resources:
  Product:
    Type: AWS::ServiceCatalog::CloudFormationProduct
    Properties:
      Name: catalog
      Owner: platform
      ProvisioningArtifactParameters: []
  Acl:
    Type: AWS::EC2::NetworkAcl
    Properties:
      VpcId: vpc-12345678
  Wait:
    Type: AWS::CloudFormation::WaitConditionHandle
  Meta:
    Type: AWS::CDK::Metadata
    Properties:
      Analytics: v2
Outputs:
  ProductId:
    Value: !Ref Product
  ProductName:
    Value: !GetAtt Product.ProductName
  AclId:
    Value: !Ref Acl
"""


def test_types_moto_does_not_model_are_stubbed_with_the_shapes_of_their_schemas() -> None:
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="stubs", TemplateBody=STUBBED)
        stack = _status(cfn, "stubs")
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs["ProductId"].startswith("prod-") and len(outputs["ProductId"]) == 18
        assert outputs["ProductName"].startswith("stubs-Product-")
        assert outputs["AclId"].startswith("acl-") and len(outputs["AclId"]) == 21
        stubbed = [
            (r["logical_id"], r["type"])
            for r in cloud.journal.records
            if r["kind"] == "cfn" and r.get("emulation") == "stubbed"
        ]
        assert stubbed == [
            ("Product", "AWS::ServiceCatalog::CloudFormationProduct"),
            ("Acl", "AWS::EC2::NetworkAcl"),
            ("Wait", "AWS::CloudFormation::WaitConditionHandle"),
        ]  # AWS::CDK::Metadata is CloudFormation's own: accepted, not a stub
        from motobox.emulation.cloudformation import summary

        assert summary.lines(cloud.journal.records) == [
            "stack stubs: 3 of 4 resources not emulated by moto: "
            "AWS::ServiceCatalog::CloudFormationProduct, AWS::EC2::NetworkAcl, "
            "AWS::CloudFormation::WaitConditionHandle"
        ]


CONDITIONED = """
Parameters:
  WithAcl: {Type: String, Default: "no"}
Conditions:
  HasAcl: !Equals [!Ref WithAcl, "yes"]
Resources:
  Options:
    Type: AWS::EC2::DHCPOptions
    Properties: {DomainName: example.com}
  Acl:
    Type: AWS::EC2::NetworkAcl
    Condition: HasAcl
    Properties: {VpcId: vpc-12345678}
  Queue:
    Type: AWS::SQS::Queue
"""


def test_the_summary_counts_the_resources_the_stack_has_not_the_templates() -> None:
    """quickstart-aws-vpc's stack with public subnets only has 11 resources; the summary said
    "2 of 75": it counted every resource of the template, those whose condition is false
    too."""
    from motobox.emulation.cloudformation import summary

    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="cond", TemplateBody=CONDITIONED)
        assert _status(cfn, "cond")["StackStatus"] == "CREATE_COMPLETE"
        assert len(cfn.list_stack_resources(StackName="cond")["StackResourceSummaries"]) == 2
        assert summary.lines(cloud.journal.records) == [
            "stack cond: 1 of 2 resources not emulated by moto: AWS::EC2::DHCPOptions"
        ]


def test_strict_mode_fails_what_moto_does_not_model() -> None:
    with Cloud(strict=True) as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="strict", TemplateBody=STUBBED, OnFailure="DO_NOTHING")
        assert _status(cfn, "strict")["StackStatus"] == "CREATE_FAILED"
        assert (
            "Product",
            "CREATE_FAILED",
            "AWS::ServiceCatalog::CloudFormationProduct is not emulated by moto 5.2.5",
        ) in _events(cfn, "strict")


DYNAMIC = """
Resources:
  Copy:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /copy/plain
      Type: String
      Value: "ami={{resolve:ssm:/base/ami}} v1={{resolve:ssm:/base/ami:1}}"
  Secret:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /copy/secret
      Type: String
      Value: "{{resolve:secretsmanager:db:SecretString:password}}"
"""


def test_dynamic_references_are_resolved_from_the_clouds_own_state() -> None:
    with Cloud() as cloud:
        ssm = cloud.client("ssm")
        ssm.put_parameter(Name="/base/ami", Value="ami-0first", Type="String")
        ssm.put_parameter(Name="/base/ami", Value="ami-0second", Type="String", Overwrite=True)
        cloud.client("secretsmanager").create_secret(
            Name="db", SecretString=json.dumps({"password": "hunter2"})
        )
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="dynamic", TemplateBody=DYNAMIC)
        assert _status(cfn, "dynamic")["StackStatus"] == "CREATE_COMPLETE"
        value = ssm.get_parameter(Name="/copy/plain")["Parameter"]["Value"]
        assert value == "ami=ami-0second v1=ami-0first"
        assert ssm.get_parameter(Name="/copy/secret")["Parameter"]["Value"] == "hunter2"


def test_a_missing_secret_fails_the_resource() -> None:
    with Cloud() as cloud:
        ssm = cloud.client("ssm")
        ssm.put_parameter(Name="/base/ami", Value="ami-0first", Type="String")
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="dynamic", TemplateBody=DYNAMIC, OnFailure="DO_NOTHING")
        failed = [e for e in _events(cfn, "dynamic") if e[1] == "CREATE_FAILED"]
        assert failed[0][0] == "Secret"
        assert failed[0][2].startswith("Secrets Manager can't find the specified secret.")


CUSTOM = """
Resources:
  Lookup:
    Type: Custom::AmiLookup
    Properties:
      ServiceToken: !Sub "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:lookup"
      Family: al2023
  User:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /custom/image
      Type: String
      Value: !GetAtt Lookup.ImageId
Outputs:
  ImageId:
    Value: !GetAtt Lookup.ImageId
  LookupId:
    Value: !Ref Lookup
"""


def _scenario(tmp_path: Path, answer: str) -> Path:
    path = tmp_path / "custom.yaml"
    path.write_text(
        "rules:\n"
        "  - match: {resource_type: 'Custom::*', logical_id: Lookup}\n"
        f"    custom_resource: {answer}\n"
    )
    return path


def test_a_scenario_answers_a_custom_resource_without_code(tmp_path: Path) -> None:
    scenario = _scenario(
        tmp_path, "{status: SUCCESS, data: {ImageId: ami-0123456789abcdef0}, physical_id: lk-1}"
    )
    with Cloud(scenarios=[scenario]) as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="custom", TemplateBody=CUSTOM)
        stack = _status(cfn, "custom")
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs == {"ImageId": "ami-0123456789abcdef0", "LookupId": "lk-1"}
        cfn.delete_stack(StackName="custom")
        requests = [
            (r["request"], r["answered_by"], r["status"], r["forced"])
            for r in cloud.journal.records
            if r.get("event") == "custom-resource"
        ]
        assert requests == [
            ("Create", "scenario", "SUCCESS", f"{scenario}#rules[0]"),
            ("Delete", "scenario", "SUCCESS", None),
        ]


def test_a_failed_answer_fails_the_custom_resource_with_its_reason(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "{status: FAILED, reason: no image for al2023}")
    with Cloud(scenarios=[scenario]) as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="custom", TemplateBody=CUSTOM, OnFailure="DO_NOTHING")
        assert _status(cfn, "custom")["StackStatus"] == "CREATE_FAILED"
        (failed,) = [
            e for e in _events(cfn, "custom") if e[1] == "CREATE_FAILED" and e[0] != "custom"
        ]
        assert failed[0] == "Lookup"
        assert failed[2].startswith(
            "Received response status [FAILED] from custom resource. Message returned: "
            "no image for al2023 (RequestId: "
        )


def _lookup_function(cloud: Cloud, timeout: int = 3) -> None:
    import io
    import zipfile

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")
    iam = cloud.client("iam")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    cloud.client("lambda").create_function(
        FunctionName="lookup",
        Runtime="python3.11",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
        Timeout=timeout,
    )


def _answering(requests: list[dict[str, Any]], delay: float = 0.0) -> Any:
    """A function that answers as cfnresponse does: a PUT to the ResponseURL."""

    def invoke(info: Any, function: Any, payload: bytes, *_: Any) -> None:
        request = json.loads(payload)
        requests.append(request)

        def put() -> None:
            if delay:
                threading.Event().wait(delay)
            body = json.dumps(
                {
                    "Status": "SUCCESS",
                    "PhysicalResourceId": "lookup-" + request["RequestType"].lower(),
                    "StackId": request["StackId"],
                    "RequestId": request["RequestId"],
                    "LogicalResourceId": request["LogicalResourceId"],
                    "Data": {"ImageId": "ami-0fromthefunction0"},
                }
            ).encode()
            urllib.request.urlopen(  # noqa: S310 - the cloud's own port
                urllib.request.Request(request["ResponseURL"], data=body, method="PUT"),
                timeout=10,
            ).read()

        threading.Thread(target=put).start()
        return None

    return invoke


def test_a_function_answers_at_the_response_url_on_the_clouds_own_port() -> None:
    requests: list[dict[str, Any]] = []
    with Cloud() as cloud, mock.patch.object(custom, "invoke_function", _answering(requests)):
        _lookup_function(cloud)
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="fn", TemplateBody=CUSTOM)
        stack = _status(cfn, "fn")
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == {
            "ImageId": "ami-0fromthefunction0",
            "LookupId": "lookup-create",
        }
        cfn.delete_stack(StackName="fn")
        create, delete = requests
        assert create["ResponseURL"].startswith(f"{cloud.endpoint_url}/_motobox/cfn-response/")
        assert create["RequestType"] == "Create" and delete["RequestType"] == "Delete"
        assert create["ResourceType"] == "Custom::AmiLookup"
        assert create["LogicalResourceId"] == "Lookup"
        assert create["ResourceProperties"] == {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:lookup",
            "Family": "al2023",
        }
        assert delete["PhysicalResourceId"] == "lookup-create"
        assert create["StackId"] == stack["StackId"]


def test_a_slow_custom_resource_leaves_the_stack_in_progress_not_the_client_waiting() -> None:
    requests: list[dict[str, Any]] = []
    with (
        Cloud() as cloud,
        mock.patch.object(custom, "invoke_function", _answering(requests, delay=1.5)),
        mock.patch.object(engine, "BUDGET", 0.2),
    ):
        _lookup_function(cloud)
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="slow", TemplateBody=CUSTOM)
        assert _status(cfn, "slow")["StackStatus"] == "CREATE_IN_PROGRESS"
        cfn.get_waiter("stack_create_complete").wait(
            StackName="slow", WaiterConfig={"Delay": 1, "MaxAttempts": 20}
        )


def test_no_answer_within_the_functions_timeout_fails_the_resource() -> None:
    with (
        Cloud() as cloud,
        mock.patch.object(custom, "invoke_function", lambda *a: None),
        mock.patch.object(custom, "MARGIN", 0.5),
    ):
        _lookup_function(cloud, timeout=1)
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="silent", TemplateBody=CUSTOM, OnFailure="DO_NOTHING")
        cfn.get_waiter("stack_create_complete").config.max_attempts = 1
        with pytest.raises(botocore.exceptions.WaiterError):
            cfn.get_waiter("stack_create_complete").wait(
                StackName="silent", WaiterConfig={"Delay": 1, "MaxAttempts": 10}
            )
        assert _status(cfn, "silent")["StackStatus"] == "CREATE_FAILED"
        (failed,) = [e for e in _events(cfn, "silent") if e[:2] == ("Lookup", "CREATE_FAILED")]
        assert failed[2].startswith(
            "CloudFormation did not receive a response from your Custom Resource. "
            "Please check your logs for requestId ["
        )


def test_a_function_that_ends_without_answering_fails_the_resource_when_it_ends() -> None:
    """quickstart-aws-acm-certificate's function answers with ``botocore.vendored.requests``,
    which botocore no longer has: its answer never left, and each stack waited the function's
    Timeout (900 s) plus MARGIN before it failed. A function's invocation ends before
    CloudFormation could hear from it (Lambda freezes what it leaves running), so the
    resource fails when the invocation ends, with CloudFormation's words."""
    with Cloud() as cloud:
        _lookup_function(cloud, timeout=300)  # its handler returns None, answering nothing
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="mute", TemplateBody=CUSTOM, OnFailure="DO_NOTHING")
        with pytest.raises(botocore.exceptions.WaiterError, match="CREATE_FAILED"):
            cfn.get_waiter("stack_create_complete").wait(
                StackName="mute", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
            )
        (failed,) = [e for e in _events(cfn, "mute") if e[:2] == ("Lookup", "CREATE_FAILED")]
        assert failed[2].startswith(
            "CloudFormation did not receive a response from your Custom Resource. "
            "Please check your logs for requestId ["
        )
        (record,) = [r for r in cloud.journal.records if r.get("event") == "custom-resource"]
        assert (record["answered_by"], record["status"]) == ("function", "NO_RESPONSE")


def test_the_summary_names_a_stack_still_in_progress_and_the_journal_fits_its_schema() -> None:
    import jsonschema

    from motobox.emulation.cloudformation import summary

    schema_path = Path(__file__).parents[1] / "src/motobox/scenario/schema/journal-1.schema.json"
    schema = json.loads(schema_path.read_text())
    with (
        Cloud() as cloud,
        mock.patch.object(custom, "invoke_function", lambda *a: None),
        mock.patch.object(custom, "MARGIN", 1.5),
        mock.patch.object(engine, "BUDGET", 0.1),
    ):
        _lookup_function(cloud, timeout=1)
        cfn = cloud.client("cloudformation")
        cfn.create_stack(
            StackName="pending",
            TemplateBody=CUSTOM.replace("\nOutputs:", STUBBED_EXTRA.rstrip() + "\nOutputs:"),
        )
        assert summary.lines(cloud.journal.records) == [
            "stack pending: still CREATE_IN_PROGRESS when the program ended"
        ]
        with pytest.raises(botocore.exceptions.WaiterError, match="ROLLBACK_COMPLETE"):
            cfn.get_waiter("stack_create_complete").wait(
                StackName="pending", WaiterConfig={"Delay": 1, "MaxAttempts": 20}
            )
        validator = jsonschema.Draft202012Validator(schema)
        for record in cloud.journal.records:
            validator.validate(json.loads(json.dumps(record, default=str)))
        kinds = {(r["kind"], r.get("event")) for r in cloud.journal.records}
        assert {("aws", None), ("cfn", "stack"), ("cfn", "custom-resource")} <= kinds


STUBBED_EXTRA = """
  Acl:
    Type: AWS::EC2::NetworkAcl
    DependsOn: User
    Properties:
      VpcId: vpc-12345678
"""


def test_events_show_resource_properties_with_no_echo_values_masked() -> None:
    template = """
Parameters:
  Secret: {Type: String, NoEcho: true}
  Plain: {Type: String}
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Sub "${Plain}:${Secret}"
"""
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(
            StackName="masked",
            TemplateBody=template,
            Parameters=[
                {"ParameterKey": "Secret", "ParameterValue": "hunter2"},
                {"ParameterKey": "Plain", "ParameterValue": "visible"},
            ],
        )
        events = cfn.describe_stack_events(StackName="masked")["StackEvents"]
        shown = [e["ResourceProperties"] for e in events if e["LogicalResourceId"] == "Param"]
        assert shown and all(
            json.loads(p) == {"Type": "String", "Value": "visible:****"} for p in shown
        )
