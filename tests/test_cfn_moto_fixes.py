"""The three moto template bugs real taskcat projects hit, each fixed (``emulation.cloudformation
.fixes``). Each test also runs moto's own function and asserts the bug is still there: when a
moto release mends it, that half fails and the fix goes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from motobox import emulation
from motobox.cloud import Cloud

NOVALUE = """
Conditions:
  HasOwner: !Equals [!Ref "AWS::Region", nowhere-1]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags:
        - !If [HasOwner, {Key: owner, Value: me}, !Ref "AWS::NoValue"]
        - {Key: team, Value: platform}
"""

DATE = """
Resources:
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: 2012-10-17
        Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]
"""

GETATT = """
Resources:
  Certificate:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: example.com
Outputs:
  CertificateArn:
    Value: !GetAtt Certificate.CertificateArn
"""


def moto_own(function: Any) -> Any:
    """moto's own function under every fix wrapped around it (fixes keep the one they wrap as
    ``motobox_original``; several fixes may wrap one function, e.g. ``clean_json``)."""
    while getattr(function, "motobox_original", None) is not None:
        function = function.motobox_original
    return function


def _resource_map(template: dict[str, Any]) -> Any:
    from moto.cloudformation.parsing import ResourceMap

    resources = ResourceMap(
        "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "s",
        {},
        {},
        region_name="us-east-1",
        account_id="123456789012",
        template=template,
        cross_stack_resources={},
    )
    resources.load_conditions()
    return resources


def test_novalue_in_a_list_is_dropped() -> None:
    from moto.cloudformation import parsing

    from motobox.emulation.cloudformation import template

    emulation.apply("cloudformation")
    parsed = template.parse(NOVALUE)
    tags = parsed["Resources"]["Queue"]["Properties"]["Tags"]
    resources = _resource_map(parsed)
    assert parsing.clean_json(tags, resources) == [{"Key": "team", "Value": "platform"}]
    # moto's own keeps the None (upstream still broken: drop the fix when this fails)
    assert None in moto_own(parsing.clean_json)(tags, resources)
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="novalue", TemplateBody=NOVALUE)
        assert cfn.describe_stacks(StackName="novalue")["Stacks"][0]["StackStatus"] == (
            "CREATE_COMPLETE"
        )
        sqs = cloud.client("sqs")
        (url,) = sqs.list_queues()["QueueUrls"]
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "platform"}


def test_yaml_date_stays_a_string() -> None:
    from moto.cloudformation.models import Stack

    emulation.apply("cloudformation")
    fixed = Stack.parse_template(DATE)
    document = fixed["Resources"]["Policy"]["Properties"]["PolicyDocument"]
    assert document["Version"] == "2012-10-17"
    original = moto_own(Stack.parse_template)(DATE)
    version = original["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Version"]
    assert isinstance(version, datetime.date)  # upstream still broken
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="dated", TemplateBody=DATE)
        assert cfn.describe_stacks(StackName="dated")["Stacks"][0]["StackStatus"] == (
            "CREATE_COMPLETE"
        )
        (policy,) = cloud.client("iam").list_policies(Scope="Local")["Policies"]
        assert policy["PolicyName"].startswith("dated-Policy-")


def test_getatt_on_an_unmodelled_type_in_outputs() -> None:
    from moto.cloudformation import parsing

    from motobox.emulation.cloudformation import template

    emulation.apply("cloudformation")
    resources = _resource_map(template.parse(GETATT))
    resources.validate_outputs()  # the fixed check passes
    with pytest.raises(AttributeError):  # moto's own: None.has_cfn_attr (upstream broken)
        moto_own(parsing.ResourceMap.validate_outputs)(resources)
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="cert", TemplateBody=GETATT)
        stack = cfn.describe_stacks(StackName="cert")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        (output,) = stack["Outputs"]
        assert output["OutputValue"].startswith("arn:aws:acm:us-east-1:123456789012:")


CUSTOM_GETATT = """
Resources:
  Certificate:
    Type: AWS::CloudFormation::CustomResource
    Properties:
      ServiceToken: !Sub "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:issuer"
Outputs:
  CertificateArn:
    Value: !GetAtt Certificate.Arn
"""


def test_getatt_on_a_custom_resource_of_the_long_type_name_in_outputs(tmp_path: Any) -> None:
    """``AWS::CloudFormation::CustomResource`` takes any attribute, as ``Custom::*`` does (its
    provider schema lists only ``Id``): quickstart-aws-acm-certificate's output
    ``!GetAtt ACMCertificateDNS.Arn`` was refused at CreateStack."""
    scenario = tmp_path / "issuer.yaml"
    scenario.write_text(
        "rules:\n"
        "  - match: {resource_type: AWS::CloudFormation::CustomResource}\n"
        "    custom_resource: {status: SUCCESS, data: {Arn: 'arn:aws:acm:us-east-1:1:c/x'}}\n"
    )
    with Cloud(scenarios=[scenario]) as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="cert", TemplateBody=CUSTOM_GETATT)
        stack = cfn.describe_stacks(StackName="cert")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert stack["Outputs"][0]["OutputValue"] == "arn:aws:acm:us-east-1:1:c/x"
