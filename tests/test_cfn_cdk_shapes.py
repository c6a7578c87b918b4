"""What CDK apps synthesize, deployed as CloudFormation deploys it (each shape found deploying
aws-samples/aws-cdk-examples under motobox, and failing or answering wrong before its fix):
a function's log group beside a custom resource that runs it, a CORS preflight method with a
mock integration, a stage's ``Ref`` in the API's URL, ``Fn::ImportValue`` in a stack made by a
change set, an export another stack uses, ``cdk destroy`` leaving nothing behind, and a
``ServiceToken`` without ``function:``."""

from __future__ import annotations

from typing import Any

import pytest

from motobox.cloud import Cloud
from motobox.emulation.cloudformation import summary

LOG_GROUP_RACE = """
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
          import cfnresponse
          def handler(event, context):
              print("hello")
              cfnresponse.send(event, context, cfnresponse.SUCCESS, {"Answer": "42"})
  Custom:
    Type: Custom::Thing
    Properties:
      ServiceToken: TOKEN
  FnLogGroup:  # what CDK's useCdkManagedLogGroup adds for every function
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/lambda/${Fn}
      RetentionInDays: 7
Outputs:
  Answer:
    Value: !GetAtt Custom.Answer
"""


def _stack(cfn: Any, name: str) -> dict[str, Any]:
    return dict(cfn.describe_stacks(StackName=name)["Stacks"][0])


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


@pytest.mark.parametrize(
    "token",
    [
        "!GetAtt Fn.Arn",
        # arn:aws:lambda:REGION:ACCOUNT:NAME, which Lambda's FunctionName pattern accepts
        "!Sub arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:${Fn}",
    ],
)
def test_a_custom_resource_and_its_functions_log_group(token: str) -> None:
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        template = LOG_GROUP_RACE.replace("TOKEN", token)
        cfn.create_stack(StackName="race", TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
        stack = _stack(cfn, "race")
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        assert _outputs(stack) == {"Answer": "42"}


MOCK_METHOD = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: items}
  Items:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: items}
  Options:  # CDK's CORS preflight: a MockIntegration
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Items
      HttpMethod: OPTIONS
      AuthorizationType: NONE
      Integration:
        Type: MOCK
        PassthroughBehavior: NEVER
        RequestTemplates: {application/json: '{"statusCode": 200}'}
        IntegrationResponses:
          - StatusCode: "200"
            ResponseParameters: {method.response.header.Access-Control-Allow-Origin: "'*'"}
      MethodResponses:
        - StatusCode: "200"
          ResponseParameters: {method.response.header.Access-Control-Allow-Origin: true}
  Get:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !GetAtt Api.RootResourceId
      HttpMethod: GET
      AuthorizationType: NONE
      Integration: {Type: HTTP_PROXY, IntegrationHttpMethod: GET, Uri: "https://example.com/"}
  Deployment:
    Type: AWS::ApiGateway::Deployment
    DependsOn: [Get, Options]
    Properties: {RestApiId: !Ref Api}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, DeploymentId: !Ref Deployment, StageName: prod}
Outputs:
  ApiId: {Value: !Ref Api}
  ResourceId: {Value: !Ref Items}
  Endpoint:  # CDK's RestApi.url, verbatim
    Value: !Join ["", ["https://", !Ref Api, ".execute-api.", !Ref "AWS::Region", ".",
                       !Ref "AWS::URLSuffix", "/", !Ref Stage, "/"]]
"""


def test_a_cors_preflight_method_and_the_apis_url() -> None:
    with Cloud() as cloud:
        cfn, apigateway = cloud.client("cloudformation"), cloud.client("apigateway")
        cfn.create_stack(StackName="api", TemplateBody=MOCK_METHOD)
        stack = _stack(cfn, "api")
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        outputs = _outputs(stack)
        api, resource = outputs["ApiId"], outputs["ResourceId"]
        assert outputs["Endpoint"] == f"https://{api}.execute-api.us-east-1.amazonaws.com/prod/"
        integration = apigateway.get_integration(
            restApiId=api, resourceId=resource, httpMethod="OPTIONS"
        )
        assert integration["type"] == "MOCK"
        assert integration["requestTemplates"] == {"application/json": '{"statusCode": 200}'}
        assert integration["integrationResponses"]["200"]["responseParameters"] == {
            "method.response.header.Access-Control-Allow-Origin": "'*'"
        }
        method = apigateway.get_method(restApiId=api, resourceId=resource, httpMethod="OPTIONS")
        assert method["methodResponses"]["200"]["responseParameters"] == {
            "method.response.header.Access-Control-Allow-Origin": True
        }


EXPORTER = """
Resources:
  Queue: {Type: AWS::SQS::Queue}
Outputs:
  QueueName:
    Value: !GetAtt Queue.QueueName
    Export: {Name: shared-queue-name}
"""
IMPORTER = """
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !ImportValue shared-queue-name}
Outputs:
  Imported: {Value: !GetAtt Param.Value}
"""


def test_an_import_in_a_change_set_and_an_export_in_use() -> None:
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="exporter", TemplateBody=EXPORTER)
        queue_name = _outputs(_stack(cfn, "exporter"))["QueueName"]
        cfn.create_change_set(
            StackName="importer",
            ChangeSetName="first",
            ChangeSetType="CREATE",
            TemplateBody=IMPORTER,
        )
        cfn.execute_change_set(StackName="importer", ChangeSetName="first")
        importer = _stack(cfn, "importer")
        assert importer["StackStatus"] == "CREATE_COMPLETE", importer.get("StackStatusReason")
        assert _outputs(importer) == {"Imported": queue_name}

        cfn.delete_stack(StackName="exporter")
        exporter = _stack(cfn, "exporter")
        assert exporter["StackStatus"] == "DELETE_FAILED"
        assert exporter["StackStatusReason"] == (
            "Export shared-queue-name cannot be deleted as it is in use by importer"
        )
        assert cloud.client("sqs").list_queues()["QueueUrls"]  # nothing was deleted
        cfn.delete_stack(StackName="importer")
        cfn.delete_stack(StackName="exporter")
        assert cfn.describe_stacks(StackName=exporter["StackId"])["Stacks"][0]["StackStatus"] == (
            "DELETE_COMPLETE"
        )


LEFTOVERS = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: left-api}
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: left-policy
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]
  Cluster:
    Type: AWS::ECS::Cluster
    Properties: {ClusterName: left-cluster}
  Zone:
    Type: AWS::Route53::HostedZone
    Properties: {Name: left.example.com}
  TaskDef:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: left-family
      ContainerDefinitions: [{Name: app, Image: nginx, Memory: 128}]
  Check:
    Type: AWS::Route53::HealthCheck
    Properties:
      HealthCheckConfig: {Type: HTTP, FullyQualifiedDomainName: example.com, Port: 80}
"""


def test_deleting_a_stack_deletes_what_moto_keeps_and_names_what_it_cannot() -> None:
    """moto 5.2.5 reports DELETE_COMPLETE for 44 of its types that it never deletes."""
    with Cloud() as cloud:
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="left", TemplateBody=LEFTOVERS)
        assert _stack(cfn, "left")["StackStatus"] == "CREATE_COMPLETE"
        cfn.delete_stack(StackName="left")
        assert cloud.client("apigateway").get_rest_apis()["items"] == []
        assert cloud.client("iam").list_policies(Scope="Local")["Policies"] == []
        ecs = cloud.client("ecs")
        (cluster,) = ecs.describe_clusters(clusters=["left-cluster"])["clusters"]
        assert cluster["status"] == "INACTIVE"  # as DeleteCluster leaves it, on AWS too
        assert ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"] == []
        assert cloud.client("route53").list_hosted_zones()["HostedZones"] == []
        (line,) = [
            line for line in summary.lines(cloud.journal.records) if line.startswith("stack left")
        ]
        assert "AWS::Route53::HealthCheck (deletion)" in line


def test_deleting_a_permission_takes_its_statement_out_of_the_policy() -> None:
    function = LOG_GROUP_RACE.split("  Custom:")[0]  # the role and the function
    permission = """
Resources:
  Perm:
    Type: AWS::Lambda::Permission
    Properties: {FunctionName: FN, Action: lambda:InvokeFunction, Principal: s3.amazonaws.com}
"""
    with Cloud() as cloud:
        cfn, lam = cloud.client("cloudformation"), cloud.client("lambda")
        cfn.create_stack(StackName="fn", TemplateBody=function, Capabilities=["CAPABILITY_IAM"])
        (name,) = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        cfn.create_stack(StackName="perm", TemplateBody=permission.replace("FN", name))
        assert _stack(cfn, "perm")["StackStatus"] == "CREATE_COMPLETE"
        assert "s3.amazonaws.com" in lam.get_policy(FunctionName=name)["Policy"]
        cfn.delete_stack(StackName="perm")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_policy(FunctionName=name)  # no statement left: Lambda has no policy
