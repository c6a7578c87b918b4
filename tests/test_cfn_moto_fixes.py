"""The three moto template bugs real taskcat projects hit, each fixed (``emulation.cloudformation
.fixes``). Each test also runs moto's own function and asserts the bug is still there: when a
moto release mends it, that half fails and the fix goes."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from conftest import last_line_of_fresh_python
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


SECURITY_GROUP_RULES = """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: rules as CloudFormation applies them
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {CidrIp: 10.1.0.0/16, IpProtocol: -1}
        - {CidrIp: 10.2.0.0/16, IpProtocol: tcp, FromPort: 22, ToPort: 22, Description: ssh}
        - {CidrIpv6: "::/0", IpProtocol: tcp, FromPort: 443, ToPort: 443}
      SecurityGroupEgress:
        - {CidrIp: 10.9.0.0/16, IpProtocol: tcp, FromPort: 443, ToPort: 443}
"""


def test_security_group_rules_without_ports_ipv6_and_egress() -> None:
    """quickstart-hashicorp-vault's load balancer group: ``IpProtocol: -1`` without ports made
    moto 5.2.5 fail with ``KeyError: 'FromPort'`` (and the group outlived the rollback); IPv6
    rules, descriptions and ``SecurityGroupEgress`` were dropped."""
    from moto.ec2.models.security_groups import SecurityGroup

    with Cloud() as cloud:
        cfn, ec2 = cloud.client("cloudformation"), cloud.client("ec2")
        cfn.create_stack(StackName="sg", TemplateBody=SECURITY_GROUP_RULES)
        stack = cfn.describe_stacks(StackName="sg")["Stacks"][0]
        assert (stack["StackStatus"], stack.get("StackStatusReason")) == ("CREATE_COMPLETE", None)
        group_id = cfn.describe_stack_resource(StackName="sg", LogicalResourceId="Group")[
            "StackResourceDetail"
        ]["PhysicalResourceId"]
        (group,) = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
        ingress = {(p["IpProtocol"], p.get("FromPort")): p for p in group["IpPermissions"]}
        assert ingress["-1", None]["IpRanges"] == [{"CidrIp": "10.1.0.0/16"}]
        assert ingress["tcp", 22]["IpRanges"] == [{"CidrIp": "10.2.0.0/16", "Description": "ssh"}]
        assert ingress["tcp", 443]["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}]
        assert [(p["IpProtocol"], p["IpRanges"]) for p in group["IpPermissionsEgress"]] == [
            ("tcp", [{"CidrIp": "10.9.0.0/16"}])
        ]
    with pytest.raises(KeyError), Cloud():  # moto's own (upstream still broken)
        from moto.ec2.models import ec2_backends

        vpc = ec2_backends["123456789012"]["us-east-1"].create_vpc("10.0.0.0/16")
        moto_own(SecurityGroup.create_from_cloudformation_json)(
            "G",
            {
                "Properties": {
                    "GroupDescription": "d",
                    "VpcId": vpc.id,
                    "SecurityGroupIngress": [{"CidrIp": "10.0.0.0/8", "IpProtocol": "-1"}],
                }
            },
            "123456789012",
            "us-east-1",
        )


MANAGED_POLICY_ARNS = """
Resources:
  Extra:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref Role]
      PolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Action: 'logs:*', Resource: '*'}]
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
"""


def test_aws_managed_policies_exist_when_any_call_first_imports_moto_iam() -> None:
    """The fix waits for moto's IAM to be imported (~25 ms of every start-up otherwise): in a
    fresh process, a cloud starts without it, and the first IAM call can attach an AWS managed
    policy (moto 5.2.5 alone: ``NoSuchEntity``)."""
    script = (
        "import sys\n"
        "from motobox.cloud import Cloud\n"
        "with Cloud() as cloud:\n"
        "    assert 'moto.iam.models' not in sys.modules, 'the cloud imported moto.iam'\n"
        "    iam = cloud.client('iam')\n"
        "    iam.create_role(RoleName='r', AssumeRolePolicyDocument='{}')\n"
        "    arn = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'\n"
        "    iam.attach_role_policy(RoleName='r', PolicyArn=arn)\n"
        "    attached = iam.list_attached_role_policies(RoleName='r')['AttachedPolicies']\n"
        "    print([p['PolicyArn'] for p in attached])\n"
    )
    assert last_line_of_fresh_python(script) == (
        "['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']"
    )


def test_managed_policy_arns_are_attached_and_the_stack_deletes() -> None:
    """A role's ``ManagedPolicyArns`` are attached (moto 5.2.5 ignored them), a policy that
    does not exist fails the role, and a stack whose ManagedPolicy is attached to its role
    deletes (moto cannot delete the policy, so the role's deletion met DeleteConflict)."""
    with Cloud() as cloud:
        cfn, iam = cloud.client("cloudformation"), cloud.client("iam")
        cfn.create_stack(
            StackName="r", TemplateBody=MANAGED_POLICY_ARNS, Capabilities=["CAPABILITY_IAM"]
        )
        stack = cfn.describe_stacks(StackName="r")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        role = cfn.describe_stack_resource(StackName="r", LogicalResourceId="Role")[
            "StackResourceDetail"
        ]["PhysicalResourceId"]
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        assert sorted(p["PolicyName"] for p in attached)[0] == "AWSLambdaBasicExecutionRole"
        assert len(attached) == 2
        cfn.delete_stack(StackName="r")
        assert cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0]["StackStatus"] == (
            "DELETE_COMPLETE"
        )
        assert iam.list_roles()["Roles"] == []
        assert iam.list_policies(Scope="Local")["Policies"] == []
        cfn.create_stack(
            StackName="bad",
            TemplateBody=MANAGED_POLICY_ARNS.replace("!Sub arn:", "Sub arn:"),
            Capabilities=["CAPABILITY_IAM"],
        )
        events = cfn.describe_stack_events(StackName="bad")["StackEvents"]
        (failed,) = [
            e
            for e in events
            if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == "Role"
        ]
        assert "NoSuchEntity" in failed["ResourceStatusReason"]


NESTED_EVENTS_CHILD = """
Resources:
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: vpc-0000000000000000f, CidrBlock: 10.0.0.0/24}
"""


def test_events_carry_resource_properties_and_a_failed_nested_stack_id() -> None:
    """taskcat finds a nested stack's template by the ``TemplateURL`` in the parent's event
    whose ``PhysicalResourceId`` is the child: without them it lost grandchild stacks
    ("Failed to import child stack: need at least one argument")."""
    with Cloud() as cloud:
        s3, cfn = cloud.client("s3"), cloud.client("cloudformation")
        s3.create_bucket(Bucket="tpl")
        s3.put_object(Bucket="tpl", Key="child.yaml", Body=NESTED_EVENTS_CHILD.encode())
        url = "https://tpl.s3.us-east-1.amazonaws.com/child.yaml"
        parent = (
            "Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n"
            f"    Properties: {{TemplateURL: {url}}}\n"
        )
        cfn.create_stack(StackName="p", TemplateBody=parent, OnFailure="DO_NOTHING")
        events = [
            e
            for e in cfn.describe_stack_events(StackName="p")["StackEvents"]
            if e["LogicalResourceId"] == "Child"
        ]
        (failed,) = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
        assert failed["PhysicalResourceId"].startswith("arn:aws:cloudformation:")
        assert all(json.loads(e["ResourceProperties"])["TemplateURL"] == url for e in events)


STAGE_REF = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Body:
        openapi: 3.0.1
        info: {title: from-the-body}
        paths:
          /hook:
            post:
              responses: {"200": {description: ok}}
              x-amazon-apigateway-integration: {type: http, httpMethod: POST, uri: 'https://example.com/hook'}
  Deployment:
    Type: AWS::ApiGateway::Deployment
    Properties: {RestApiId: !Ref Api}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, DeploymentId: !Ref Deployment, StageName: Prod}
Outputs:
  Url:
    Value: !Sub https://${Api}.execute-api.${AWS::Region}.amazonaws.com/${Stage}/hook
"""


def test_rest_api_from_a_body_and_a_stage_ref() -> None:
    """quickstart-git2s3's webhook: a RestApi named by its Body's title (moto 5.2.5:
    ``KeyError: 'Name'``), its paths imported (else the Deployment fails "The REST API doesn't
    contain any methods"), and a stubbed Stage's Ref is its name, not "api-id|Prod"."""
    with Cloud() as cloud:
        cfn, apigw = cloud.client("cloudformation"), cloud.client("apigateway")
        cfn.create_stack(StackName="api", TemplateBody=STAGE_REF)
        stack = cfn.describe_stacks(StackName="api")["Stacks"][0]
        assert (stack["StackStatus"], stack.get("StackStatusReason")) == ("CREATE_COMPLETE", None)
        (api,) = apigw.get_rest_apis()["items"]
        assert api["name"] == "from-the-body"
        paths = {r["path"] for r in apigw.get_resources(restApiId=api["id"])["items"]}
        assert "/hook" in paths
        (url,) = [o["OutputValue"] for o in stack["Outputs"]]
        assert url == f"https://{api['id']}.execute-api.us-east-1.amazonaws.com/Prod/hook"


def test_ref_of_a_model_without_a_physical_id() -> None:
    """moto 5.2.5's EventBus, DBSubnetGroup, Lambda Version, API Gateway Deployment...
    have no ``physical_resource_id``: ``Ref`` returned the model object, and an output read
    "<moto.events.models.EventBus object at 0x...>"."""
    template = """
Resources:
  Bus: {Type: AWS::Events::EventBus, Properties: {Name: bus1}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "def handler(e, c): return 1"}
  Version: {Type: AWS::Lambda::Version, Properties: {FunctionName: !Ref Fn}}
  Permission:
    Type: AWS::Lambda::Permission
    Properties: {FunctionName: !Ref Fn, Action: lambda:InvokeFunction, Principal: s3.amazonaws.com}
Outputs:
  Bus: {Value: !Ref Bus}
  Version: {Value: !Ref Version}
  Permission: {Value: !Ref Permission}
"""
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="refs", TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
        stack = cfn.describe_stacks(StackName="refs")["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs["Bus"] == "bus1"
        assert outputs["Version"].startswith("arn:aws:lambda:us-east-1:123456789012:function:")
        assert outputs["Version"].endswith(":1")
        assert outputs["Permission"].startswith("refs-Permission-")
        assert not any("object at 0x" in v for v in outputs.values())
        physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.list_stack_resources(StackName="refs")["StackResourceSummaries"]
        }
        assert all(physical.values())


STATE_MACHINES = """
Parameters:
  Bucket: {Type: String}
Resources:
  Topic: {Type: AWS::SNS::Topic}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: states.amazonaws.com}, Action: sts:AssumeRole}
  Logs: {Type: AWS::Logs::LogGroup}
  FromS3:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: !GetAtt Role.Arn
      DefinitionS3Location: {Bucket: !Ref Bucket, Key: sm.json}
      DefinitionSubstitutions: {TopicArn: !Ref Topic}
      LoggingConfiguration:
        Level: ALL
        IncludeExecutionData: true
        Destinations: [{CloudWatchLogsLogGroup: {LogGroupArn: !GetAtt Logs.Arn}}]
  FromObject:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: !GetAtt Role.Arn
      StateMachineType: EXPRESS
      TracingConfiguration: {Enabled: true}
      Definition:
        StartAt: Done
        States: {Done: {Type: Pass, Result: "${TopicArn}", End: true}}
      DefinitionSubstitutions: {TopicArn: !Ref Topic}
"""


def test_a_state_machine_from_s3_with_substitutions() -> None:
    """``DefinitionS3Location``, ``Definition`` (an object), ``DefinitionSubstitutions``,
    ``StateMachineType``, ``LoggingConfiguration`` and ``TracingConfiguration`` reach Step
    Functions; moto 5.2.5 made each machine STANDARD with the definition "" and logging OFF
    (quickstart-amazon-selling-partner-api-reports-notifications)."""
    from moto.stepfunctions.models import StateMachine

    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {"TopicArn": "${TopicArn}", "Message": "hi"},
        "End": True,
    }
    with Cloud() as cloud:
        cloud.client("s3").create_bucket(Bucket="defs")
        cloud.client("s3").put_object(
            Bucket="defs", Key="sm.json", Body=json.dumps({"StartAt": "N", "States": {"N": task}})
        )
        cfn = cloud.client("cloudformation")
        cfn.create_stack(
            StackName="sfn",
            TemplateBody=STATE_MACHINES,
            Parameters=[{"ParameterKey": "Bucket", "ParameterValue": "defs"}],
            Capabilities=["CAPABILITY_IAM"],
        )
        stack = cfn.describe_stacks(StackName="sfn")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.list_stack_resources(StackName="sfn")["StackResourceSummaries"]
        }
        sfn = cloud.client("stepfunctions")
        from_s3 = sfn.describe_state_machine(stateMachineArn=physical["FromS3"])
        assert (
            json.loads(from_s3["definition"])["States"]["N"]["Parameters"]["TopicArn"]
            == (physical["Topic"])
        )
        assert from_s3["type"] == "STANDARD"
        assert from_s3["loggingConfiguration"]["level"] == "ALL"
        (destination,) = from_s3["loggingConfiguration"]["destinations"]
        assert destination["cloudWatchLogsLogGroup"]["logGroupArn"].startswith(
            "arn:aws:logs:us-east-1:123456789012:log-group:sfn-Logs-"
        )
        from_object = sfn.describe_state_machine(stateMachineArn=physical["FromObject"])
        assert (
            json.loads(from_object["definition"])["States"]["Done"]["Result"] == (physical["Topic"])
        )
        assert from_object["type"] == "EXPRESS"
        assert from_object["tracingConfiguration"] == {"enabled": True}
    own = moto_own(StateMachine.create_from_cloudformation_json)
    made = own(
        "m",
        {
            "Properties": {
                "Definition": {"StartAt": "A"},
                "StateMachineType": "EXPRESS",
                "RoleArn": "arn:aws:iam::111111111111:role/r",
            }
        },
        "1" * 12,
        "eu-west-3",
    )
    assert (made.definition, made.type) == ("", "STANDARD")  # upstream still drops them


KMS_KEYS = """
Resources:
  WithPolicy:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}
            Action: "kms:*"
            Resource: "*"
  Signing:
    Type: AWS::KMS::Key
    Properties: {KeySpec: RSA_2048, KeyUsage: SIGN_VERIFY, Enabled: false}
"""


def test_a_kms_key_policy_spec_and_state() -> None:
    """A key's ``KeyPolicy`` is stored as JSON text: moto 5.2.5 kept the mapping, and
    DescribeKey answered a 500 ("the JSON object must be str, bytes or bytearray, not
    dict"); a key without ``KeyPolicy`` failed with "KeyError: 'KeyPolicy'"; ``KeySpec``,
    ``KeyUsage`` and ``Enabled`` were ignored."""
    from moto.kms.models import Key

    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="kms", TemplateBody=KMS_KEYS)
        stack = cfn.describe_stacks(StackName="kms")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.list_stack_resources(StackName="kms")["StackResourceSummaries"]
        }
        kms = cloud.client("kms")
        assert kms.describe_key(KeyId=physical["WithPolicy"])["KeyMetadata"]["Enabled"]
        policy = kms.get_key_policy(KeyId=physical["WithPolicy"], PolicyName="default")["Policy"]
        assert json.loads(policy)["Statement"][0]["Action"] == "kms:*"
        signing = kms.describe_key(KeyId=physical["Signing"])["KeyMetadata"]
        assert (signing["KeySpec"], signing["KeyUsage"], signing["KeyState"]) == (
            "RSA_2048",
            "SIGN_VERIFY",
            "Disabled",
        )
        assert json.loads(
            kms.get_key_policy(KeyId=physical["Signing"], PolicyName="default")["Policy"]
        )["Statement"]
    own = moto_own(Key.create_from_cloudformation_json)
    made = own("k", {"Properties": {"KeyPolicy": {"Statement": []}}}, "1" * 12, "eu-west-3")
    assert isinstance(made.policy, dict)  # upstream still stores the mapping
    with pytest.raises(KeyError, match="KeyPolicy"):
        own("k", {"Properties": {}}, "1" * 12, "eu-west-3")


SECRET = """
Resources:
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString:
        SecretStringTemplate: '{"username": "admin"}'
        GenerateStringKey: password
        PasswordLength: 16
        ExcludeCharacters: '"@/\\'
  ReadSecret:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Action: secretsmanager:GetSecretValue, Resource: !Ref Secret}]
  User:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Sub "{{resolve:secretsmanager:${Secret}:SecretString:username}}"
Outputs:
  SecretArn: {Value: !Ref Secret}
  SecretId: {Value: !GetAtt Secret.Id}
"""


def test_a_secret_is_emulated() -> None:
    """``AWS::SecretsManager::Secret`` is made in Secrets Manager: ``Ref`` is its ARN (an IAM
    policy's resource; the stub's generated name failed aws-ia/cfn-ps-apache-superset with
    "MalformedPolicyDocument"), a dynamic reference reads its generated value (the stub
    failed quickstart-salesforce-connect-appsync-rds-postgresql's Aurora cluster with
    "Secrets Manager can't find the specified secret") and DeleteStack deletes it."""
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel

    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="sec", TemplateBody=SECRET)
        stack = cfn.describe_stacks(StackName="sec")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        sm = cloud.client("secretsmanager")
        (secret,) = sm.list_secrets()["SecretList"]
        assert outputs == {"SecretArn": secret["ARN"], "SecretId": secret["ARN"]}
        assert secret["Name"].startswith("sec-Secret-")
        value = json.loads(sm.get_secret_value(SecretId=secret["ARN"])["SecretString"])
        assert value["username"] == "admin"
        assert len(value["password"]) == 16 and not set('"@/\\') & set(value["password"])
        (parameter,) = cloud.client("ssm").describe_parameters()["Parameters"]
        assert cloud.client("ssm").get_parameter(Name=parameter["Name"])["Parameter"]["Value"] == (
            "admin"
        )
        cfn.delete_stack(StackName="sec")
        assert sm.list_secrets()["SecretList"] == []
    emulation.apply("cloudformation")
    models = [
        m
        for m in CloudFormationModel.__subclasses__()
        if m.cloudformation_type() == "AWS::SecretsManager::Secret"
    ]
    assert [m.__module__ for m in models] == ["motobox.emulation.cloudformation.fixes"]
    assert parsing.get_model_map()["AWS::SecretsManager::Secret"] is models[0]


EFS = """
Resources:
  FileSystem: {Type: AWS::EFS::FileSystem}
  AccessPoint:
    Type: AWS::EFS::AccessPoint
    Properties: {FileSystemId: !Ref FileSystem}
Outputs:
  Arn: {Value: !GetAtt FileSystem.Arn}
  Id: {Value: !GetAtt FileSystem.FileSystemId}
  PointRef: {Value: !Ref AccessPoint}
  PointArn: {Value: !GetAtt AccessPoint.Arn}
"""


def test_efs_attributes() -> None:
    """``!GetAtt FileSystem.Arn`` failed its stack with "'FileSystem' object has no attribute
    'get_cfn_attribute'" (aws-ia/cfn-ps-apache-superset); an access point's ``Ref`` is its
    ``fsap-`` id."""
    from moto.efs.models import FileSystem

    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="efs", TemplateBody=EFS)
        stack = cfn.describe_stacks(StackName="efs")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        efs = cloud.client("efs")
        (fs,) = efs.describe_file_systems()["FileSystems"]
        (point,) = efs.describe_access_points()["AccessPoints"]
        assert outputs == {
            "Arn": fs["FileSystemArn"],
            "Id": fs["FileSystemId"],
            "PointRef": point["AccessPointId"],
            "PointArn": point["AccessPointArn"],
        }
    assert "get_cfn_attribute" not in vars(moto_own_class(FileSystem))  # upstream lacks it


NLB = """
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
  SubnetA:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24, AvailabilityZone: us-east-1a}
  SubnetB:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.2.0/24, AvailabilityZone: us-east-1b}
  Balancer:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Type: network
      Subnets: [!Ref SubnetA, !Ref SubnetB]
      LoadBalancerAttributes: [{Key: load_balancing.cross_zone.enabled, Value: "true"}]
  Group:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties: {Port: 8088, Protocol: TCP, TargetType: ip, VpcId: !Ref Vpc}
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Balancer
      Port: 8088
      Protocol: TCP
      DefaultActions:
        - Type: forward
          ForwardConfig: {TargetGroups: [{TargetGroupArn: !Ref Group}]}
Outputs:
  GroupFullName: {Value: !GetAtt Group.TargetGroupFullName}
  BalancerFullName: {Value: !GetAtt Balancer.LoadBalancerFullName}
"""


def test_a_listener_forwards_with_forward_config() -> None:
    """docker compose's ECS stacks (aws-ia/cfn-ps-apache-superset): a network load balancer,
    a TCP listener whose forward action has ``ForwardConfig`` and a dashboard that reads
    ``TargetGroupFullName``. moto 5.2.5 made the balancer an application one, failed the
    listener with "KeyError: 'TargetGroupArn'" and the attribute with an AttributeError."""
    from moto.elbv2.models import ELBv2Backend, FakeTargetGroup

    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="nlb", TemplateBody=NLB)
        stack = cfn.describe_stacks(StackName="nlb")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        elb = cloud.client("elbv2")
        (balancer,) = elb.describe_load_balancers()["LoadBalancers"]
        assert balancer["Type"] == "network"
        attributes = elb.describe_load_balancer_attributes(
            LoadBalancerArn=balancer["LoadBalancerArn"]
        )["Attributes"]
        assert {"Key": "load_balancing.cross_zone.enabled", "Value": "true"} in attributes
        (group,) = elb.describe_target_groups()["TargetGroups"]
        (listener,) = elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
            "Listeners"
        ]
        forwarded = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
        assert [g["TargetGroupArn"] for g in forwarded] == [group["TargetGroupArn"]]
        assert outputs["GroupFullName"] == group["TargetGroupArn"].split(":", 5)[5]
        assert outputs["BalancerFullName"] == balancer["LoadBalancerArn"].split(":loadbalancer/")[1]
    own = moto_own(ELBv2Backend.convert_and_validate_properties)
    with pytest.raises(KeyError, match="TargetGroupArn"):
        own(None, {"DefaultActions": [{"Type": "forward", "ForwardConfig": {}}]})
    assert "get_cfn_attribute" not in vars(moto_own_class(FakeTargetGroup))  # upstream lacks it
