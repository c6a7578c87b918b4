"""Each fix of moto behaviour, shown by a test that fails without it."""

from __future__ import annotations

import json
from typing import Any

import pytest

import motobox
from motobox.cloud import Cloud
from motobox.emulation.context import request_context

# The statement taskcat 0.9.58 puts on its artifact bucket (taskcat/_s3_stage.py).
TASKCAT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Test",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::taskcat-bucket/*",
            "Condition": {"StringEquals": {"s3:signatureversion": "AWS"}},
        }
    ],
}


def test_a_sigv4_put_object_passes_taskcats_deny_sigv2_bucket_policy() -> None:
    with Cloud() as cloud:
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket="taskcat-bucket")
        s3.put_bucket_policy(Bucket="taskcat-bucket", Policy=json.dumps(TASKCAT_POLICY))
        s3.put_object(Bucket="taskcat-bucket", Key="templates/t.yaml", Body=b"x")
        assert s3.get_object(Bucket="taskcat-bucket", Key="templates/t.yaml")["Body"].read() == b"x"


def test_the_deny_statement_still_applies_to_sigv2_requests() -> None:
    from moto.s3.models import FakeBucket

    from motobox import emulation

    emulation.apply("s3")
    bucket: Any = FakeBucket.__new__(FakeBucket)
    bucket.policy = json.dumps(TASKCAT_POLICY).encode()
    from moto.iam.access_control import PermissionResult

    resource = "arn:aws:s3:::taskcat-bucket/k"
    with request_context(signature_version="v2"):
        assert bucket.get_permission("s3:PutObject", resource) == PermissionResult.DENIED
    with request_context(signature_version="v4"):
        assert bucket.get_permission("s3:PutObject", resource) == PermissionResult.NEUTRAL


@pytest.mark.parametrize("condition_holds", [True, False])
def test_trust_policy_outcomes_are_unchanged(condition_holds: bool) -> None:
    """Trust policies are evaluated by moto's own statement code, which the fix leaves alone."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    from motobox import emulation

    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "expected"}},
    }
    values = {"sts:ExternalId": "expected" if condition_holds else "other"}
    before = IAMPolicyStatement(statement).is_action_permitted("sts:AssumeRole", "*", None, values)
    emulation.apply()
    after = IAMPolicyStatement(statement).is_action_permitted("sts:AssumeRole", "*", None, values)
    assert before == after
    assert after == (PermissionResult.PERMITTED if condition_holds else PermissionResult.DENIED)


def test_motobox_is_importable_with_its_version() -> None:
    assert motobox.__version__


def test_the_method_list_of_a_response_class_is_made_once() -> None:
    import inspect
    from unittest import mock

    import moto.core.responses as responses
    from moto.sts.responses import TokenResponse

    from motobox import emulation

    emulation.apply("sts")
    with mock.patch.object(inspect, "getmembers", wraps=inspect.getmembers) as getmembers:
        first = responses.method_names_from_class(TokenResponse)
        second = responses.method_names_from_class(TokenResponse)
    assert first == second and "get_caller_identity" in first
    assert getmembers.call_count <= 1


def test_service_folders_are_listed_once_however_many_models_are_loaded() -> None:
    """Without the fix every model moto loads makes a new loader that lists all services."""
    import os
    from pathlib import Path
    from unittest import mock

    import botocore
    from moto.core import utils

    from motobox import emulation

    emulation.apply("sts")
    data = str(Path(botocore.__file__).parent / "data")
    with mock.patch("botocore.loaders.os.listdir", wraps=os.listdir) as listdir:
        for service in ("sqs", "sns", "kinesis"):
            utils._load_service_model(service, "service-2")
    listings = [c for c in listdir.call_args_list if str(c.args[0]).rstrip("/") == data]
    assert len(listings) <= 1, f"botocore's data folder listed {len(listings)} times"
    assert utils.get_service_model("sqs").service_name == "sqs"
