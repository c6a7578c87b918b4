"""The egress policy (sandbox.egress.decide), without sockets: stubs first, AWS API hosts to
the cloud, everything else denied with an HTTP answer."""

from __future__ import annotations

import pytest

from motobox.aws.models import is_api_host
from motobox.sandbox.egress import Answer, Stub, ToCloud, decide

TELEMETRY = (
    "https://cdk-cli-telemetry.us-east-1.api.aws/metrics",
    "https://aws-serverless-tools-telemetry.us-west-2.amazonaws.com/metrics",
)


@pytest.mark.parametrize(
    "host",
    [
        "sts.amazonaws.com",
        "sqs.us-east-1.amazonaws.com",
        "queue.amazonaws.com",  # SQS's legacy name, from the endpoint data's sslCommonName
        "us-west-2.queue.amazonaws.com",
        "my-bucket.s3.us-west-2.amazonaws.com",
        "s3.dualstack.eu-west-1.amazonaws.com",
        "dynamodb-fips.us-east-1.amazonaws.com",
        "lambda.cn-north-1.amazonaws.com.cn",
        "abc123.execute-api.us-east-1.amazonaws.com",
        "STS.AMAZONAWS.COM.",
    ],
)
def test_hosts_that_name_an_aws_api_go_to_the_cloud(host: str) -> None:
    assert is_api_host(host)
    assert decide(f"https://{host}/", []) == ToCloud()


@pytest.mark.parametrize("url", [*TELEMETRY, "https://example.com/", "https://amazonaws.com/"])
def test_other_hosts_are_denied_with_an_http_403(url: str) -> None:
    answer = decide(url, [])
    assert isinstance(answer, Answer) and (answer.status, answer.action) == (403, "deny")
    assert b"motobox denied egress to" in answer.body


def test_a_stub_for_a_telemetry_host_answers_it() -> None:
    stubs = [Stub(host="cdk-cli-telemetry.us-east-1.api.aws", status=200, json={}, source="s#0")]
    answer = decide(TELEMETRY[0], stubs)
    assert isinstance(answer, Answer)
    assert (answer.status, answer.action, answer.forced) == (200, "stub", "s#0")


def test_url_stubs_win_over_host_stubs_and_the_query_must_match_when_given() -> None:
    stubs = [
        Stub(host="pypi.org", status=404, source="host"),
        Stub(url="https://pypi.org/pypi/taskcat/json?x=1", status=200, source="url"),
    ]
    assert getattr(decide("https://pypi.org/pypi/taskcat/json?x=1", stubs), "forced", None) == "url"
    assert (
        getattr(decide("https://pypi.org/pypi/taskcat/json?x=2", stubs), "forced", None) == "host"
    )


def test_the_clouds_own_address_goes_to_the_cloud() -> None:
    assert decide("http://127.0.0.1:4566/bucket/key", [], cloud={"127.0.0.1:4566"}) == ToCloud()
    assert isinstance(decide("http://127.0.0.1:4567/", [], cloud={"127.0.0.1:4566"}), Answer)
