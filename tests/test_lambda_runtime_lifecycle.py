"""Lambda refuses runtimes AWS no longer lets anyone create functions with, as AWS does, by the
dates AWS publishes (cfn-lint ships them); motobox ran such a function on its own Python and
the stack read CREATE_COMPLETE where AWS answers CREATE_FAILED."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import botocore.exceptions
import pytest

from lambda_code import create, role
from motobox import Cloud
from motobox.emulation.lambdas import lifecycle

PYTHON37 = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
  Old:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.7
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context):\\n    return 1\\n"
"""

REFUSED = (
    "The runtime parameter of python3.7 is no longer supported for creating or updating AWS "
    "Lambda functions. We recommend you use the new runtime (python3.14) while creating or "
    "updating functions."
)


def test_a_runtime_past_its_create_block_date_is_refused() -> None:
    """quickstart-aws-acm-certificate's python3.7 function (creation blocked since
    2024-01-09) was created and run."""
    with Cloud() as cloud:
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            create(cloud, "old", {"index.py": "def handler(e, c):\n    return 1\n"},
                   runtime="python3.7")  # fmt: skip
        error = refused.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("InvalidParameterValueException", REFUSED)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        create(cloud, "new", {"index.py": "def handler(e, c):\n    return 1\n"})
        cfn = cloud.client("cloudformation")
        cfn.create_stack(StackName="old", TemplateBody=PYTHON37, OnFailure="DO_NOTHING")
        stack = cfn.describe_stacks(StackName="old")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_FAILED"
        events = cfn.describe_stack_events(StackName="old")["StackEvents"]
        (failed,) = [e for e in events if e["LogicalResourceId"] == "Old"
                     and e["ResourceStatus"] == "CREATE_FAILED"]  # fmt: skip
        assert failed["ResourceStatusReason"] == (
            f"Old (AWS::Lambda::Function): InvalidParameterValueException: {REFUSED}"
        )  # the service's refusal, not a failure of moto
        names = [f["FunctionName"] for f in cloud.client("lambda").list_functions()["Functions"]]
        assert names == ["new"]
        # moto's own accepts it (upstream still without runtime lifecycle: drop the fix then)
        from moto.awslambda.models import LambdaBackend
        from moto.awslambda.utils import get_backend

        own = LambdaBackend.create_function.motobox_original  # type: ignore[attr-defined]
        spec = {
            "FunctionName": "own",
            "Runtime": "python3.7",
            "Role": role(cloud),
            "Handler": "index.handler",
            "Code": {"ZipFile": base64.b64encode(b"PK")},
        }
        assert own(get_backend(cloud.account, "us-east-1"), spec).run_time == "python3.7"


def test_the_dates_decide() -> None:
    before, after = datetime.date(2024, 1, 8), datetime.date(2024, 1, 9)
    assert lifecycle.refusal("python3.7", "create", before) is None
    assert lifecycle.refusal("python3.7", "create", after) == REFUSED
    assert lifecycle.refusal("python3.7", "update", after) is None  # updates until 2027-03-03
    assert lifecycle.refusal("python3.12", "create", after) is None
    assert lifecycle.refusal("no-such-runtime", "create", after) is None


def test_code_from_a_missing_s3_object_is_refused() -> None:
    """Lambda refuses ``Code`` whose S3 object does not exist; moto 5.2.5 made the function
    with no code, so a stack whose ``QSS3KeyPrefix`` missed taskcat's upload completed
    (quickstart-amazon-selling-partner-api-reports-notifications)."""
    from moto.awslambda import models

    with Cloud() as cloud:
        cloud.client("s3").create_bucket(Bucket="code")
        with pytest.raises(botocore.exceptions.ClientError, match="NoSuchKey") as refused:
            cloud.client("lambda").create_function(
                FunctionName="f",
                Runtime="python3.12",
                Handler="index.handler",
                Role=role(cloud),
                Code={"S3Bucket": "code", "S3Key": "missing.zip"},
            )
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
        own: Any = models._validate_s3_bucket_and_key
        while getattr(own, "motobox_original", None) is not None:
            own = own.motobox_original
        missing = {"S3Bucket": "code", "S3Key": "missing.zip"}
        assert own(cloud.account, "aws", missing) is None  # upstream still lets it through
