"""Calls are named from botocore's models through moto's model-driven router."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

from motobox.aws.identify import identify, services_sharing_wire_api, summarize_params


def _request_of(service: str, method: str, **kwargs: Any) -> tuple[dict[str, Any], bytes]:
    """The WSGI environ and body botocore itself sends for one call."""
    session = botocore.session.get_session()
    client = session.create_client(
        service,
        region_name="ca-central-1",
        endpoint_url="http://127.0.0.1:1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    sent: list[Any] = []

    def capture(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 599, {}, None)

    client.meta.events.register("before-send", capture)
    try:
        getattr(client, method)(**kwargs)
    except Exception:
        pass
    request = sent[0]
    url = urlsplit(request.url)
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    environ = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": url.path,
        "QUERY_STRING": url.query,
        "HTTP_HOST": url.netloc,
        "CONTENT_TYPE": "",
    }
    for name, value in request.headers.items():
        value = value.decode() if isinstance(value, bytes) else value
        if name.lower() == "content-type":
            environ["CONTENT_TYPE"] = value
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ, body


@pytest.mark.parametrize(
    ("service", "method", "kwargs", "expected", "protocol", "params"),
    [
        ("sts", "get_caller_identity", {}, "sts:GetCallerIdentity", "query", {}),
        (
            "cloudformation",
            "create_stack",
            {"StackName": "s", "TemplateBody": "{}"},
            "cloudformation:CreateStack",
            "query",
            {"StackName": "s"},
        ),
        (
            "s3",
            "get_object_tagging",
            {"Bucket": "b", "Key": "k"},
            "s3:GetObjectTagging",
            "rest-xml",
            {"Bucket": "b", "Key": "k"},
        ),
        (
            "s3",
            "put_object",
            {"Bucket": "b", "Key": "k", "Body": b"x"},
            "s3:PutObject",
            "rest-xml",
            {"Bucket": "b", "Key": "k"},
        ),
        (
            "dynamodb",
            "get_item",
            {"TableName": "t", "Key": {"id": {"S": "1"}}},
            "dynamodb:GetItem",
            "json",
            {"TableName": "t"},
        ),
        (
            "lambda",
            "get_function",
            {"FunctionName": "fn"},
            "lambda:GetFunction",
            "rest-json",
            {"FunctionName": "fn"},
        ),
        (
            "ec2",
            "describe_instances",
            {"InstanceIds": ["i-1"]},
            "ec2:DescribeInstances",
            "ec2",
            {"InstanceIds": ["i-1"]},
        ),
        (
            "sqs",
            "receive_message",
            {"QueueUrl": "http://q/123/q"},
            "sqs:ReceiveMessage",
            "json",
            {"QueueUrl": "http://q/123/q"},
        ),
    ],
)
def test_calls_are_named_by_service_and_operation_with_their_parameters(
    service: str, method: str, kwargs: dict, expected: str, protocol: str, params: dict
) -> None:
    call = identify(*_request_of(service, method, **kwargs))
    assert f"{call.service}:{call.operation}" == expected
    assert call.region == "ca-central-1"
    assert call.protocol == protocol
    assert call.access_key_id == "AKIDEXAMPLE" and call.signature_version == "v4"
    assert call.params is not None
    for key, value in params.items():
        assert call.params[key] == value


def test_a_virtual_hosted_s3_name_is_identified() -> None:
    environ, body = _request_of("s3", "put_object", Bucket="b", Key="k", Body=b"x")
    environ["HTTP_HOST"] = "b.s3.us-west-2.amazonaws.com"
    environ["PATH_INFO"] = "/k"
    call = identify(environ, body)
    assert (call.service, call.operation) == ("s3", "PutObject")


def test_docdb_calls_are_journaled_as_the_rds_api_moto_dispatches_to() -> None:
    call = identify(*_request_of("docdb", "describe_db_clusters"))
    assert (call.service, call.operation) == ("rds", "DescribeDBClusters")
    assert {"rds", "docdb", "neptune"} <= services_sharing_wire_api("rds")


def test_a_smithy_rpc_v2_cbor_call_is_identified() -> None:
    import cbor2

    environ, _ = _request_of("cloudwatch", "list_metrics")
    environ.update(
        HTTP_SMITHY_PROTOCOL="rpc-v2-cbor",
        PATH_INFO="/service/GraniteServiceVersion20100801/operation/ListMetrics",
        CONTENT_TYPE="application/cbor",
    )
    call = identify(environ, cbor2.dumps({"Namespace": "AWS/EC2"}))
    assert (call.service, call.operation, call.protocol) == (
        "cloudwatch",
        "ListMetrics",
        "smithy-rpc-v2-cbor",
    )
    assert call.params == {"Namespace": "AWS/EC2"}


def test_large_bodies_are_journaled_as_size_and_sha256() -> None:
    summary = summarize_params({"Body": b"x" * 10000, "Key": "k"})
    assert summary["Key"] == "k"
    assert summary["Body"]["size"] == 10000 and len(summary["Body"]["sha256"]) == 64


def test_an_unidentifiable_request_gives_empty_fields_not_an_error() -> None:
    call = identify({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": ""}, b"")
    assert call.service is None and call.operation is None


def test_moto_internals_we_depend_on_still_exist() -> None:
    """motobox builds on moto internals (pinned); a moto upgrade that moves them fails here."""
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.request import Request, determine_request_protocol
    from moto.core.routing import get_service_router
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    assert {"query", "ec2", "json", "rest-json", "rest-xml"} <= set(PROTOCOL_PARSERS)
    assert callable(get_service_router("sts").match)
    assert callable(determine_request_protocol) and isinstance(Request, type)
    assert callable(DomainDispatcherApplication(create_backend_app).get_backend_for_host)


def test_the_service_index_is_cached_per_botocore_and_a_broken_cache_is_rebuilt(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motobox.aws import identify as identify_module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from motobox import usercache

    path = usercache.entry_path("service-index", usercache.botocore_tag())
    assert path.parent == tmp_path / "motobox" and botocore.__version__ in path.name
    fresh = identify_module._Index.load()  # no cache yet: read from the models, then written
    assert path.is_file()
    cached = identify_module._Index.load()
    assert cached.services == fresh.services == identify_module._Index().services
    assert cached.by_signing == fresh.by_signing and cached.by_prefix == fresh.by_prefix
    assert cached.candidates("sts", "") == ["sts"]
    path.write_text('[{"name": "sts"')  # torn write: read afresh and cached again
    assert identify_module._Index.load().services == fresh.services
    assert identify_module._Index.load().services == fresh.services
    blocked = tmp_path / "a-file"  # a cache folder that cannot be made is no error
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert identify_module._Index.load().services == fresh.services
