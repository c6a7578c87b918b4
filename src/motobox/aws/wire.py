"""Forced answers on the wire, in the protocol the request used.

    request_protocol(service model, headers...)  which of the service's protocols the request
                                                 speaks, read off the request
    call_protocol(call, environ, body)           the same for a call the gateway identified
    serialize_response(operation, protocol, value)  -> WireResponse (status, headers, body)
    serialize_error(operation, protocol, code, message, status)  -> WireResponse
    parse_response(operation, protocol, WireResponse)  -> dict (botocore's own parsers), so a
                                                 ``patch`` rule can change the backend's answer

Query, EC2, JSON, REST-JSON and REST-XML (S3 and SQS included) go through moto's
model-driven serializers (``moto.core.serialize``), whose output botocore's parsers read back
to the same values. moto has no smithy-rpc-v2-cbor serializer: ``_CborSerializer`` writes it
from the output shape with ``cbor2`` (timestamps as CBOR tag 1, epoch seconds; errors as
``{"__type", "message"}`` with the ``smithy-protocol: rpc-v2-cbor`` header, as the Smithy
RPCv2 CBOR spec says and botocore's ``RpcV2CBORParser`` reads).
"""

from __future__ import annotations

import datetime
import functools
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CBOR = "smithy-rpc-v2-cbor"


@dataclass
class WireResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def request_protocol(
    service_model: Any,
    headers: Mapping[str, str],
    method: str = "POST",
    path: str = "/",
    query: str = "",
    body: bytes = b"",
) -> str:
    """The protocol of ``service_model`` that this request speaks."""
    lower = {k.lower(): v for k, v in headers.items()}
    protocols = list(service_model.metadata.get("protocols") or [service_model.protocol])
    if lower.get("smithy-protocol") == "rpc-v2-cbor" and CBOR in protocols:
        return CBOR
    content_type = lower.get("content-type", "").split(";")[0].strip()
    if content_type.startswith("application/x-amz-json") and "json" in protocols:
        return "json"
    if "x-amz-target" in lower and "json" in protocols:
        return "json"
    if content_type == "application/x-www-form-urlencoded" or "Action=" in query:
        for p in ("ec2", "query"):
            if p in protocols:
                return p
    for p in ("rest-json", "rest-xml"):
        if p in protocols:
            return p
    return str(service_model.protocol)


def call_protocol(call: Any, environ: Mapping[str, Any], body: Any) -> str:
    """The protocol of an identified call (``identify.Call``): the one identify read, else
    the one its request speaks."""
    if call.protocol:
        return str(call.protocol)
    from moto.core.utils import get_service_model

    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    headers["content-type"] = environ.get("CONTENT_TYPE", "")
    return request_protocol(
        get_service_model(call.service),
        headers,
        environ["REQUEST_METHOD"],
        environ.get("PATH_INFO", "/"),
        environ.get("QUERY_STRING", ""),
        body if isinstance(body, bytes) else b"",
    )


@functools.cache
def _moto_operation(service: str, operation: str) -> Any:
    from moto.core.utils import get_service_model

    return get_service_model(service).operation_model(operation)


class _ForcedError(Exception):
    """The error a rule forces. (Its module must not start with "moto": moto derives a
    service from the exception's module name, and "motobox" would read as a moto service.)"""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_ForcedError.__module__ = "forced"


def _to_wire(resp: Mapping[str, Any]) -> WireResponse:
    body = resp["body"]
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is None:
        body = b""
    elif not isinstance(body, bytes):  # a streaming payload
        body = b"".join(body) if not hasattr(body, "read") else body.read()
    return WireResponse(
        int(resp["status_code"]), {k: str(v) for k, v in resp["headers"].items()}, body
    )


def _moto_serializer(operation_model: Any, protocol: str) -> Any:
    from moto.core.serialize import get_serializer_class

    service = operation_model.service_model.service_name
    moto_op = _moto_operation(service, operation_model.name)
    return get_serializer_class(service, protocol)(moto_op)


def serialize_response(
    operation_model: Any, protocol: str, value: Mapping[str, Any]
) -> WireResponse:
    if protocol == CBOR:
        return _CborSerializer(operation_model).response(value)
    response = _to_wire(_moto_serializer(operation_model, protocol).serialize(dict(value)))
    # moto's REST serializers ignore members bound to the status code (lambda:InvokeAsync's
    # Status, for one); the answer's status is that member's value.
    shape = operation_model.output_shape
    for name, member in shape.members.items() if shape is not None else ():
        if member.serialization.get("location") == "statusCode" and name in value:
            response.status = int(value[name])
    return response


def serialize_error(
    operation_model: Any,
    protocol: str,
    code: str,
    message: str,
    status: int = 400,
    request_id: str | None = None,
) -> WireResponse:
    if protocol == CBOR:
        return _CborSerializer(operation_model).error(code, message, status)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns about codes its models do not list
        resp = _to_wire(
            _moto_serializer(operation_model, protocol).serialize(_ForcedError(code, message))
        )
    resp.status = status
    if request_id is None:
        request_id = str(uuid.uuid4())
    resp.headers.setdefault("x-amzn-RequestId", request_id)
    return resp


def parse_response(operation_model: Any, protocol: str, response: WireResponse) -> dict[str, Any]:
    import botocore.parsers
    from botocore.awsrequest import HeadersDict

    parser = botocore.parsers.create_parser(protocol)
    parsed = parser.parse(
        {
            "status_code": response.status,
            "headers": HeadersDict(response.headers),
            "body": response.body,
        },
        operation_model.output_shape,
    )
    parsed.pop("ResponseMetadata", None)
    for name, member in (
        operation_model.output_shape.members.items() if operation_model.output_shape else ()
    ):
        if member.serialization.get("streaming") and hasattr(parsed.get(name), "read"):
            parsed[name] = parsed[name].read()
    return dict(parsed)


class _CborSerializer:
    """Smithy RPCv2 CBOR answers, written from the operation's output shape."""

    def __init__(self, operation_model: Any) -> None:
        self.operation = operation_model

    @staticmethod
    def _headers() -> dict[str, str]:
        return {
            "smithy-protocol": "rpc-v2-cbor",
            "Content-Type": "application/cbor",
            "x-amzn-RequestId": str(uuid.uuid4()),
        }

    def _encode(self, value: Any, shape: Any) -> Any:
        import cbor2

        if shape is None:
            return value
        kind = shape.type_name
        if kind == "structure":
            return {
                name: self._encode(value[name], member)
                for name, member in shape.members.items()
                if isinstance(value, Mapping) and name in value and value[name] is not None
            }
        if kind == "list":
            return [self._encode(v, shape.member) for v in value]
        if kind == "map":
            return {k: self._encode(v, shape.value) for k, v in value.items()}
        if kind == "timestamp":
            if isinstance(value, datetime.datetime):
                if value.tzinfo is None:
                    value = value.replace(tzinfo=datetime.UTC)
                return cbor2.CBORTag(1, value.timestamp())
            return cbor2.CBORTag(1, float(value))
        if kind == "blob":
            return value.encode() if isinstance(value, str) else bytes(value)
        if kind in ("float", "double"):
            return float(value)
        return value

    def response(self, value: Mapping[str, Any]) -> WireResponse:
        import cbor2

        body = cbor2.dumps(self._encode(dict(value), self.operation.output_shape) or {})
        return WireResponse(200, self._headers(), body)

    def error(self, code: str, message: str, status: int) -> WireResponse:
        import cbor2

        namespace = self.operation.service_model.metadata.get("targetPrefix") or ""
        shape_names = {e.name for e in self.operation.error_shapes}
        qualified = f"{namespace}#{code}" if namespace and code in shape_names else code
        body = cbor2.dumps({"__type": qualified, "message": message})
        return WireResponse(status, self._headers(), body)
