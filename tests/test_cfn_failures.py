"""When moto raises instead of answering, the program gets an AWS error in its call's own
protocol (never a plain-text 500 its SDK cannot parse), and the journal says what happened."""

from __future__ import annotations

from typing import Any

import botocore.config
import botocore.exceptions
import pytest

from motobox.cloud import Cloud

NO_RETRY = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})

# One service per wire protocol, each the protocol botocore picks for that client.
CALLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "query": ("sns", "list_topics", {}),
    "ec2": ("ec2", "describe_vpcs", {}),
    "json": ("dynamodb", "list_tables", {}),
    "rest-json": ("lambda", "list_functions", {}),
    "rest-xml": ("route53", "list_hosted_zones", {}),
    "smithy-rpc-v2-cbor": ("cloudwatch", "list_dashboards", {}),
}


def _raising(exchange: Any) -> Any:
    raise RuntimeError("the disk is on fire")


@pytest.mark.parametrize("protocol", list(CALLS))
def test_an_exception_in_moto_reaches_the_sdk_as_internal_failure(protocol: str) -> None:
    service, method, kwargs = CALLS[protocol]
    with Cloud() as cloud:
        assert cloud.gateway is not None
        cloud.gateway.backend = _raising
        client = cloud.client(service, config=NO_RETRY)
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            getattr(client, method)(**kwargs)
        error = caught.value.response["Error"]
        assert error["Code"] == "InternalFailure"
        assert "RuntimeError: the disk is on fire" in error["Message"]
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        records = cloud.journal.calls()  # the SDK may retry a 500, as it would for AWS
        assert records and all(
            r["status"] == 500
            and r["error"] == "InternalFailure"
            and r["message"] == "moto 5.2.5 failed: RuntimeError: the disk is on fire"
            for r in records
        )


def test_an_operation_moto_lacks_is_stubbed_empty_and_flagged() -> None:
    with Cloud() as cloud:
        ses = cloud.client("ses", config=NO_RETRY)
        answer = ses.list_custom_verification_email_templates()
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
        (record,) = cloud.journal.calls("ses:ListCustomVerificationEmailTemplates")
        assert record["emulation"] == "stubbed"
        assert "is not emulated by moto 5.2.5" in record["message"]


def test_an_operation_moto_lacks_is_refused_in_strict_mode() -> None:
    with Cloud(strict=True) as cloud:
        ses = cloud.client("ses", config=NO_RETRY)
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            ses.list_custom_verification_email_templates()
        assert caught.value.response["Error"]["Code"] == "NotImplemented"
        assert caught.value.response["Error"]["Message"] == (
            "ses:ListCustomVerificationEmailTemplates is not emulated by moto 5.2.5"
        )
        (record,) = cloud.journal.calls()
        assert record["emulation"] == "refused" and record["status"] == 501
