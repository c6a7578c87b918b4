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


NETWORK = """
Resources:
  VPC:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  Gateway:
    Type: AWS::EC2::InternetGateway
  Attachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: {VpcId: !Ref VPC, InternetGatewayId: !Ref Gateway}
  Public:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref VPC, CidrBlock: 10.0.0.0/24}
  Private:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref VPC, CidrBlock: 10.0.1.0/24}
  PublicRoutes:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref VPC}
  DefaultRoute:
    Type: AWS::EC2::Route
    DependsOn: Attachment
    Properties:
      {RouteTableId: !Ref PublicRoutes, DestinationCidrBlock: 0.0.0.0/0, GatewayId: !Ref Gateway}
  PublicAssociation:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref Public, RouteTableId: !Ref PublicRoutes}
  NatAddress:
    Type: AWS::EC2::EIP
    DependsOn: Attachment
    Properties: {Domain: vpc}
  Nat:
    Type: AWS::EC2::NatGateway
    Properties: {AllocationId: !GetAtt NatAddress.AllocationId, SubnetId: !Ref Public}
  PrivateRoutes:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref VPC}
  NatRoute:
    Type: AWS::EC2::Route
    Properties:
      {RouteTableId: !Ref PrivateRoutes, DestinationCidrBlock: 0.0.0.0/0, NatGatewayId: !Ref Nat}
  PrivateAssociation:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref Private, RouteTableId: !Ref PrivateRoutes}
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: ssh, VpcId: !Ref VPC}
  Ssh:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      {GroupId: !Ref Group, IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 10.0.0.0/16}
"""


def test_deleting_a_stack_deletes_its_network() -> None:
    """quickstart-aws-vpc: every stack ended DELETE_FAILED, "The vpc vpc-... has dependencies
    and cannot be deleted", because moto deleted none of the route tables, routes,
    associations, gateways, NAT gateways and addresses before it."""
    from moto.ec2.models.route_tables import RouteTable

    with Cloud() as cloud:
        cfn, ec2 = cloud.client("cloudformation"), cloud.client("ec2")
        before = {
            "tables": len(ec2.describe_route_tables()["RouteTables"]),
            "groups": len(ec2.describe_security_groups()["SecurityGroups"]),
        }
        cfn.create_stack(StackName="net", TemplateBody=NETWORK)
        stack_id = cfn.describe_stacks(StackName="net")["Stacks"][0]["StackId"]
        assert cfn.describe_stacks(StackName="net")["Stacks"][0]["StackStatus"] == (
            "CREATE_COMPLETE"
        )
        cfn.delete_stack(StackName="net")
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        assert (stack["StackStatus"], stack.get("StackStatusReason")) == ("DELETE_COMPLETE", None)
        assert len(ec2.describe_route_tables()["RouteTables"]) == before["tables"]
        assert len(ec2.describe_security_groups()["SecurityGroups"]) == before["groups"]
        assert ec2.describe_internet_gateways()["InternetGateways"] == []
        assert ec2.describe_addresses()["Addresses"] == []
        nat_states = [n["State"] for n in ec2.describe_nat_gateways()["NatGateways"]]
        assert nat_states == ["deleted"]
    # moto's own models still cannot be deleted by CloudFormation (drop the fix when this fails)
    assert getattr(RouteTable.delete_from_cloudformation_json, "__isabstractmethod__", False)


PREFIX_LIST_INGRESS = """
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: ssh}
  Ssh:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !GetAtt Group.GroupId
      SourcePrefixListId: !GetAtt Offices.PrefixListId
      IpProtocol: tcp
      FromPort: 22
      ToPort: 22
  Offices:
    Type: AWS::EC2::PrefixList
    Properties:
      PrefixListName: offices
      AddressFamily: IPv4
      MaxEntries: 2
      Entries: [{Cidr: 10.1.0.0/16}]
"""


def test_an_ingress_rule_from_a_prefix_list() -> None:
    """quickstart-linux-bastion's prefix-list-access test: ``SourcePrefixListId`` is a source
    of its own, and moto 5.2.5's ``SecurityGroupIngress`` asserts that a CIDR or a group is
    given (``AssertionError`` with no message, the rule CREATE_FAILED)."""
    from moto.ec2.models.security_groups import SecurityGroupIngress

    with Cloud() as cloud:
        cfn, ec2 = cloud.client("cloudformation"), cloud.client("ec2")
        cfn.create_stack(StackName="pl", TemplateBody=PREFIX_LIST_INGRESS)
        stack = cfn.describe_stacks(StackName="pl")["Stacks"][0]
        assert (stack["StackStatus"], stack.get("StackStatusReason")) == ("CREATE_COMPLETE", None)
        physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.list_stack_resources(StackName="pl")["StackResourceSummaries"]
        }
        (group,) = ec2.describe_security_groups(GroupIds=[physical["Group"]])["SecurityGroups"]
        assert [p["PrefixListIds"] for p in group["IpPermissions"]] == [
            [{"PrefixListId": physical["Offices"]}]
        ]
        stack_id = stack["StackId"]
        cfn.delete_stack(StackName="pl")
        assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == (
            "DELETE_COMPLETE"
        )
    with pytest.raises(AssertionError):  # moto's own (upstream still broken)
        moto_own(SecurityGroupIngress.create_from_cloudformation_json)(
            "Ssh",
            {"Properties": {"GroupId": "sg-1", "SourcePrefixListId": "pl-1", "IpProtocol": "tcp"}},
            "123456789012",
            "us-east-1",
        )


PARAMETER_GETATT = """
Resources:
  Image:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: ami-0123456789abcdef0
Outputs:
  ImageId:
    Value: !GetAtt Image.Value
  ImageType:
    Value: !GetAtt Image.Type
"""


def test_getatt_on_an_ssm_parameter_without_a_name() -> None:
    """``AWS::SSM::Parameter`` has the attributes ``Type`` and ``Value``; moto 5.2.5's model has
    no ``get_cfn_attribute``, so an output ``!GetAtt Param.Value`` failed its stack with
    "AttributeError: 'Parameter' object has no attribute 'get_cfn_attribute'" (the quickstart
    fixture's ImageId). A parameter without ``Name`` gets a generated one, as CloudFormation
    gives it; moto passed None on and failed with "'NoneType' object has no attribute
    'lower'"."""
    from moto.ssm.models import Parameter

    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="param", TemplateBody=PARAMETER_GETATT)
        stack = cfn.describe_stacks(StackName="param")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == {
            "ImageId": "ami-0123456789abcdef0",
            "ImageType": "String",
        }
        (name,) = [p["Name"] for p in cloud.client("ssm").describe_parameters()["Parameters"]]
        assert name.startswith("param-Image-")
    assert "get_cfn_attribute" not in vars(moto_own_class(Parameter))  # upstream still lacks it
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'lower'"):
        moto_own(Parameter.create_from_cloudformation_json)(
            "param-Image-1", {"Properties": {"Type": "String", "Value": "v"}}, "1" * 12, "eu-west-3"
        )


def moto_own_class(model: type) -> type:
    """The model as moto defines it: a fix that adds methods keeps moto's set of names in
    ``motobox_own_names``."""
    return type("own", (), dict.fromkeys(getattr(model, "motobox_own_names", vars(model))))


REST_API = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Body:
        swagger: "2.0"
        info: {title: my-api, version: "1.0"}
        paths:
          /items:
            parameters: []
            get:
              x-amazon-apigateway-integration:
                type: mock
                requestTemplates: {application/json: '{"statusCode": 200}'}
              responses: {}
            x-amazon-apigateway-any-method:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations
              responses: {}
  Deployment:
    Type: AWS::ApiGateway::Deployment
    Properties:
      RestApiId: !Ref Api
Outputs:
  ApiId:
    Value: !Ref Api
"""


def test_a_rest_api_is_made_from_its_body() -> None:
    """SAM's implicit API: a RestApi with an OpenAPI (swagger 2.0) Body and no Name."""
    from moto.apigateway.models import RestAPI

    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="api", TemplateBody=REST_API)
        (stack,) = cfn.describe_stacks(StackName="api")["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        api_id = stack["Outputs"][0]["OutputValue"]
        apigateway = cloud.client("apigateway")
        assert apigateway.get_rest_api(restApiId=api_id)["name"] == "my-api"
        resources = apigateway.get_resources(restApiId=api_id)["items"]
        (items,) = [r for r in resources if r["path"] == "/items"]
        assert sorted(items["resourceMethods"]) == ["ANY", "GET"]
        integration = apigateway.get_integration(
            restApiId=api_id, resourceId=items["id"], httpMethod="ANY"
        )
        assert integration["type"] == "AWS_PROXY"
        assert apigateway.get_deployments(restApiId=api_id)["items"]

        with pytest.raises(KeyError, match="Name"):  # upstream still broken
            moto_own(RestAPI.create_from_cloudformation_json)(
                "Api", template_resource(REST_API, "Api"), "123456789012", "us-east-1"
            )


def template_resource(text: str, name: str) -> Any:
    from motobox.emulation.cloudformation import template

    return template.parse(text)["Resources"][name]
