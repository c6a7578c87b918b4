"""Forced answers parse back through botocore's own parsers, for every operation of 30+
services spanning every protocol botocore knows.

Values are generated from each operation's output shape in botocore's model, from a seeded
random generator (two seeds, reproducible): every member filled, every type (string,
integer, long, float, double, boolean, timestamp, blob, list, map, nested structure) and
every location (body, header, headers map, status code, payload). "Same value" is defined
once, in ``normalize``.
"""

from __future__ import annotations

import datetime
import functools
import random
from typing import Any

import botocore.session
import pytest

from motobox.aws import wire
from motobox.aws.wire import CBOR

# service -> the protocols to test it in. SQS is tested over JSON only: moto's SQS query
# serializer writes some members differently from what botocore's query parser reads, and
# every current SDK speaks JSON to SQS (left out, and said in the README).
SERVICES: dict[str, tuple[str, ...]] = {
    # query
    "cloudformation": ("query",),
    "sts": ("query",),
    "iam": ("query",),
    "sns": ("query",),
    "elb": ("query",),
    "autoscaling": ("query",),
    "rds": ("query",),
    "elasticache": ("query",),
    "ses": ("query",),
    # ec2
    "ec2": ("ec2",),
    # json
    "dynamodb": ("json",),
    "kinesis": ("json",),
    "logs": ("json",),
    "ssm": ("json",),
    "kms": ("json",),
    "secretsmanager": ("json",),
    "events": ("json",),
    "stepfunctions": ("json",),
    "ecr": ("json",),
    "ecs": ("json",),
    "sqs": ("json",),
    # rest-json
    "lambda": ("rest-json",),
    "apigateway": ("rest-json",),
    "batch": ("rest-json",),
    "eks": ("rest-json",),
    "appsync": ("rest-json",),
    "iot": ("rest-json",),
    # rest-xml
    "s3": ("rest-xml",),
    "route53": ("rest-xml",),
    "cloudfront": ("rest-xml",),
    # smithy-rpc-v2-cbor (and the others the same service offers)
    "cloudwatch": ("smithy-rpc-v2-cbor", "json", "query"),
    "arc-region-switch": ("smithy-rpc-v2-cbor",),
    "cloudwatchomni": ("smithy-rpc-v2-cbor",),
}

SESSION = botocore.session.get_session()
MAX_DEPTH = 3
LEFT_OUT: dict[str, str] = {}


def _why_left_out(op: Any) -> str | None:
    if (op.service_model.service_name, op.name) == ("s3", "GetBucketNotification"):
        return "ambiguous model: two members (Event, Events) share the XML name Event"
    if (op.service_model.service_name, op.name) == ("s3", "GetBucketLocation"):
        return "parsed by a botocore handler, not the model (handlers.parse_get_bucket_location)"
    if op.has_event_stream_output:
        return "event stream output (a framed binary stream, not one answer)"
    out = op.output_shape
    if out is not None:
        payload = out.serialization.get("payload")
        if payload and out.members[payload].type_name == "blob":
            return "streaming blob payload (the body is the value itself)"
    return None


_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-_"


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 12)))


def generate(shape: Any, rng: random.Random, depth: int = 0, location: str | None = None) -> Any:
    """A value for ``shape``: every member filled, lists and maps of one entry, nested
    structures down to ``MAX_DEPTH``, scalars drawn from ``rng``."""
    kind = shape.type_name
    if kind == "structure" and getattr(shape, "is_tagged_union", False):
        # A union holds exactly one member; past the depth limit, a scalar one.
        names = sorted(shape.members)
        scalar = [
            n for n in names if shape.members[n].type_name not in ("structure", "list", "map")
        ]
        name = scalar[0] if depth >= MAX_DEPTH and scalar else rng.choice(names)
        return {name: generate(shape.members[name], rng, depth + 1)}
    if kind == "structure":
        if depth >= MAX_DEPTH:
            return {}
        value = {}
        for name, member in shape.members.items():
            if member.serialization.get("eventstream") or (
                member.type_name == "structure" and member.is_document_type
            ):
                continue
            value[name] = generate(member, rng, depth + 1, member.serialization.get("location"))
        return value
    if kind == "list":
        if location == "header":
            # A list in a header is a comma-separated string: strings only.
            return [_text(rng) for _ in range(3)] if shape.member.type_name == "string" else []
        return [] if depth >= MAX_DEPTH else [generate(shape.member, rng, depth + 1)]
    if kind == "map":
        if location == "headers":
            return {_text(rng).lower(): _text(rng)}
        return {} if depth >= MAX_DEPTH else {_text(rng): generate(shape.value, rng, depth + 1)}
    if kind == "string":
        if shape.enum:
            return rng.choice(shape.enum)
        if shape.serialization.get("jsonvalue"):
            return {"k": _text(rng)}
        return _text(rng)
    if kind == "integer":
        return (
            rng.randint(200, 299) if location == "statusCode" else rng.randint(-(2**31), 2**31 - 1)
        )
    if kind == "long":
        return rng.randint(200, 299) if location == "statusCode" else rng.randint(0, 2**53)
    if kind in ("float", "double"):
        return rng.randint(-(2**20), 2**20) / 4
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "timestamp":
        return datetime.datetime.fromtimestamp(rng.randint(0, 4_000_000_000), datetime.UTC)
    if kind == "blob":
        return rng.randbytes(rng.randint(1, 16))
    return None


def normalize(value: Any) -> Any:
    """The one definition of "same value": timestamps compared as UTC epoch seconds, and an
    empty list, map or structure the same as a missing one (XML cannot tell them apart)."""
    if isinstance(value, dict):
        out = {k: normalize(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    if isinstance(value, list):
        items = [normalize(v) for v in value]
        return [v for v in items if v not in (None, [], {})]
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return int(value.timestamp())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@functools.cache
def _operations(service: str) -> list[Any]:
    model = SESSION.get_service_model(service)
    ops = []
    for name in model.operation_names:
        op = model.operation_model(name)
        why = _why_left_out(op)
        if why:
            LEFT_OUT[f"{service}:{name}"] = why
        elif op.output_shape is not None:
            ops.append(op)
    return ops


def _cases() -> list[tuple[str, str]]:
    return [(s, p) for s, protocols in SERVICES.items() for p in protocols]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("service", "protocol"), _cases())
def test_generated_answers_parse_back_to_the_same_values(
    service: str, protocol: str, seed: int
) -> None:
    import botocore.parsers
    from botocore.awsrequest import HeadersDict

    for op in _operations(service):
        value = generate(op.output_shape, random.Random(f"{seed}:{op.name}"))
        response = wire.serialize_response(op, protocol, value)
        parsed = botocore.parsers.create_parser(protocol).parse(
            {
                "status_code": response.status,
                "headers": HeadersDict(response.headers),
                "body": response.body,
            },
            op.output_shape,
        )
        parsed.pop("ResponseMetadata", None)
        assert normalize(parsed) == normalize(value), f"{service}:{op.name} over {protocol}"


@pytest.mark.parametrize(("service", "protocol"), _cases())
def test_forced_errors_raise_the_modelled_exception_with_code_and_message(
    service: str, protocol: str
) -> None:
    """botocore parses the error and picks the exception class from the code, as a client
    does when it raises."""
    import botocore.parsers
    from botocore.awsrequest import HeadersDict

    client = SESSION.create_client(
        service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    parser = botocore.parsers.create_parser(protocol)
    checked = 0
    for op in _operations(service):
        # EC2's model lists no errors: a common code then, raised as the generic ClientError.
        shapes = op.error_shapes[:3] or [None]
        for error_shape in shapes:
            code = (error_shape.error_code or error_shape.name) if error_shape else "Throttling"
            answer = wire.serialize_error(op, protocol, code, f"forced {code}", 400)
            parsed = parser.parse(
                {
                    "status_code": answer.status,
                    "headers": HeadersDict(answer.headers),
                    "body": answer.body,
                },
                op.output_shape,
            )
            # awsQueryCompatible services answer the legacy query code in a header, as AWS
            # does; botocore reads it into Code and keeps the body's in QueryErrorCode, which
            # picks the class for SQS only (handlers._handle_sqs_compatible_error).
            error = parsed["Error"]
            assert code in {error["Code"], error.get("QueryErrorCode")}, f"{service}:{op.name}"
            assert error["Message"] == f"forced {code}", f"{service}:{op.name}"
            got = (service == "sqs" and error.get("QueryErrorCode")) or error["Code"]
            raised = client.exceptions.from_code(got)
            if error_shape is None:
                assert raised is client.exceptions.ClientError
            else:
                # Some models give one code to several shapes: the class must be one of them.
                same_code = {
                    e.name
                    for e in client.meta.service_model.error_shapes
                    if got in {e.error_code or e.name, _legacy_code(e)}
                }
                assert raised.__name__ in same_code, f"{service}:{op.name} {code}"
            checked += 1
    assert checked


def _legacy_code(shape: Any) -> str | None:
    if shape is None:
        return None
    return (shape.metadata.get("awsQueryError") or {}).get("code")


def test_coverage_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """How many operations the round-trip test covers, and what it leaves out and why."""
    ops = {(p, s, op.name) for s, p in _cases() for op in _operations(s)}
    services = {s for _, s, _ in ops}
    with capsys.disabled():
        print(
            f"\nwire round-trip: {len(ops)} operation x protocol cases in {len(services)} "
            f"services (protocols: {', '.join(sorted({p for p, _, _ in ops}))}); "
            f"left out {len(LEFT_OUT)}: " + "; ".join(sorted(set(LEFT_OUT.values())))
        )
    assert len(services) >= 30
    assert {p for p, _, _ in ops} == {"query", "ec2", "json", "rest-json", "rest-xml", CBOR}
