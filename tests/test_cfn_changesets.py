"""Change sets as CloudFormation makes them: outputs after ExecuteChangeSet, updates applied to
resources, the changes listed (a parameter-only change too), the empty change set FAILED with
CloudFormation's reason, the SAM transform expanded, AWS::CDK::Metadata accepted."""

from __future__ import annotations

from typing import Any

from motobox.cloud import Cloud

TEMPLATE = """
Parameters:
  Value:
    Type: String
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /app/setting
      Type: String
      Value: !Ref Value
  Meta:
    Type: AWS::CDK::Metadata
Outputs:
  SettingName:
    Value: !Ref Setting
"""


def _change_set(cfn: Any, kind: str, value: str) -> dict[str, Any]:
    cfn.create_change_set(
        StackName="app",
        ChangeSetName=f"cs-{kind.lower()}-{value}",
        ChangeSetType=kind,
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Value", "ParameterValue": value}],
    )
    return dict(
        cfn.describe_change_set(StackName="app", ChangeSetName=f"cs-{kind.lower()}-{value}")
    )


def test_change_sets_create_update_and_come_out_empty() -> None:
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        ssm = cloud.client("ssm")
        created = _change_set(cfn, "CREATE", "one")
        assert created["Status"] == "CREATE_COMPLETE"
        assert sorted(c["ResourceChange"]["LogicalResourceId"] for c in created["Changes"]) == [
            "Meta",
            "Setting",
        ]
        cfn.execute_change_set(StackName="app", ChangeSetName="cs-create-one")
        stack = cfn.describe_stacks(StackName="app")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert stack["Outputs"] == [{"OutputKey": "SettingName", "OutputValue": "/app/setting"}]
        assert ssm.get_parameter(Name="/app/setting")["Parameter"]["Value"] == "one"

        updated = _change_set(cfn, "UPDATE", "two")  # the template is the same: parameters only
        (change,) = updated["Changes"]
        resource = change["ResourceChange"]
        assert (resource["Action"], resource["LogicalResourceId"]) == ("Modify", "Setting")
        assert resource["PhysicalResourceId"] == "/app/setting"
        assert resource["Details"][0]["ChangeSource"] == "ParameterReference"
        assert resource["Details"][0]["CausingEntity"] == "Value"
        cfn.execute_change_set(StackName="app", ChangeSetName="cs-update-two")
        assert cfn.describe_stacks(StackName="app")["Stacks"][0]["StackStatus"] == (
            "UPDATE_COMPLETE"
        )
        assert ssm.get_parameter(Name="/app/setting")["Parameter"]["Value"] == "two"

        empty = _change_set(cfn, "UPDATE", "two")
        assert empty["Status"] == "FAILED"
        assert empty["ExecutionStatus"] == "UNAVAILABLE"
        assert empty["StatusReason"] == (
            "The submitted information didn't contain changes. "
            "Submit different information to create a change set."
        )
        stubbed = [r for r in cloud.journal.records if r.get("emulation") == "stubbed"]
        assert stubbed == []  # AWS::CDK::Metadata is accepted, not stubbed


def test_a_change_set_without_a_type_updates_the_stack() -> None:
    """CloudFormation's default ChangeSetType is UPDATE; a CREATE for a stack that exists is
    refused. moto 5.2.5 defaults to CREATE and makes a second stack of the same name: checked
    below with the fix taken out."""
    import botocore.exceptions
    import pytest
    from moto.cloudformation.responses import CloudFormationResponse

    body = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="same", TemplateBody=body)
        cfn.create_change_set(StackName="same", ChangeSetName="again", TemplateBody=body)
        again = cfn.describe_change_set(StackName="same", ChangeSetName="again")
        assert again["Status"] == "FAILED"
        assert again["StatusReason"].startswith("The submitted information didn't contain")
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            cfn.create_change_set(
                StackName="same", ChangeSetName="new", TemplateBody=body, ChangeSetType="CREATE"
            )
        assert refused.value.response["Error"] == {
            "Type": "Sender",
            "Code": "ValidationError",
            "Message": "Stack [same] already exists and cannot be created again with the "
            "changeSet [new].",
        }
        assert [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]] == ["same"]

        with pytest.raises(botocore.exceptions.ClientError, match="id fresh does not exist"):
            cfn.create_change_set(StackName="fresh", ChangeSetName="one", TemplateBody=body)

        fixed = CloudFormationResponse.create_change_set
        CloudFormationResponse.create_change_set = fixed.motobox_original  # type: ignore[method-assign,attr-defined]
        try:  # moto's own: no type means CREATE, so a stack appears under review
            cfn.create_change_set(StackName="fresh", ChangeSetName="one", TemplateBody=body)
        finally:
            CloudFormationResponse.create_change_set = fixed  # type: ignore[method-assign]
        (fresh,) = cfn.describe_stacks(StackName="fresh")["Stacks"]
        assert fresh["StackStatus"] == "REVIEW_IN_PROGRESS"


SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      InlineCode: "def handler(event, context):\\n    return 'hello'\\n"
Outputs:
  FunctionArn:
    Value: !GetAtt Hello.Arn
"""


def test_the_sam_transform_is_expanded() -> None:
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_change_set(
            StackName="sam",
            ChangeSetName="first",
            ChangeSetType="CREATE",
            TemplateBody=SAM,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        changes = cfn.describe_change_set(StackName="sam", ChangeSetName="first")["Changes"]
        types = sorted(c["ResourceChange"]["ResourceType"] for c in changes)
        assert types == ["AWS::IAM::Role", "AWS::Lambda::Function"]
        cfn.execute_change_set(StackName="sam", ChangeSetName="first")
        stack = cfn.describe_stacks(StackName="sam")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        (output,) = stack["Outputs"]
        assert output["OutputValue"].startswith("arn:aws:lambda:us-east-1:123456789012:function:")
        (function,) = cloud.client("lambda").list_functions()["Functions"]
        assert function["Handler"] == "index.handler"
        # GetTemplate gives the template as written, with its Transform
        assert "AWS::Serverless::Function" in str(cfn.get_template(StackName="sam")["TemplateBody"])


def test_a_missing_change_set_is_not_found_and_deletes_quietly() -> None:
    """What AWS CDK waits for after deleting its previous run's change set (``cdk deploy``,
    ``cdk diff``): DescribeChangeSet says ChangeSetNotFound; deleting one that is gone
    succeeds. moto 5.2.5 answered ValidationError "Stack with id ... does not exist" and a
    500 (UnboundLocalError); its own functions still do (the fix goes when moto mends them)."""
    import botocore.exceptions
    import pytest
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    from test_cfn_moto_fixes import moto_own

    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        _change_set(cfn, "CREATE", "one")
        cfn.execute_change_set(StackName="app", ChangeSetName="cs-create-one")
        cfn.delete_change_set(StackName="app", ChangeSetName="cdk-deploy-change-set")
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            cfn.describe_change_set(StackName="app", ChangeSetName="cdk-deploy-change-set")
        error = caught.value.response
        assert error["Error"]["Code"] == "ChangeSetNotFound"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert type(caught.value).__name__ == "ChangeSetNotFoundException"
        assert error["Error"]["Message"] == "ChangeSet [cdk-deploy-change-set] does not exist"
        assert _change_set(cfn, "UPDATE", "two")["Status"] == "CREATE_COMPLETE"  # still there
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends["123456789012"]["us-east-1"]
    with pytest.raises(UnboundLocalError):
        moto_own(CloudFormationBackend.delete_change_set)(backend, "nothing-by-that-name")
    with pytest.raises(ValidationError):
        moto_own(CloudFormationBackend.describe_change_set)(backend, "nothing-by-that-name")


SSM_TYPED = """
Parameters:
  BootstrapVersion:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /cdk-bootstrap/hnb659fds/version
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: %s
"""


def test_an_ssm_parameter_keeps_its_name_for_use_previous_value() -> None:
    """Every ``cdk deploy`` after the first passes the CDK's ``BootstrapVersion`` parameter
    with UsePreviousValue: the update resolves the parameter's name again. moto 5.2.5 reused
    the resolved value as the name (the second deploy ended UPDATE_FAILED), and its own
    property still does."""
    from moto.cloudformation.models import Stack, cloudformation_backends

    from test_cfn_moto_fixes import moto_own

    with Cloud() as cloud:
        cloud.client("ssm").put_parameter(
            Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
        )
        cfn = cloud.client("cloudformation")
        for kind, timeout, parameters in (
            ("CREATE", 30, []),
            ("UPDATE", 120, [{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}]),
        ):
            cfn.create_change_set(
                StackName="cdk",
                ChangeSetName=f"cs-{kind}",
                ChangeSetType=kind,
                TemplateBody=SSM_TYPED % timeout,
                Parameters=parameters,
            )
            cfn.execute_change_set(StackName="cdk", ChangeSetName=f"cs-{kind}")
            waiter = f"stack_{kind.lower()}_complete"
            cfn.get_waiter(waiter).wait(StackName="cdk", WaiterConfig={"Delay": 1})
        stack = cfn.describe_stacks(StackName="cdk")["Stacks"][0]
        assert stack["StackStatus"] == "UPDATE_COMPLETE", stack.get("StackStatusReason")
        assert stack["Parameters"] == [{"ParameterKey": "BootstrapVersion", "ParameterValue": "30"}]
        url = cloud.client("sqs").list_queues()["QueueUrls"][0]
        attributes = cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        assert attributes["Attributes"]["VisibilityTimeout"] == "120"
        moto_stack = cloudformation_backends["123456789012"]["us-east-1"].get_stack("cdk")
        assert moto_own(Stack.__dict__["stack_parameters"].fget)(moto_stack) == {
            "BootstrapVersion": "30"
        }
