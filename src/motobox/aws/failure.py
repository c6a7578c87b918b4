"""What the program gets when moto raises instead of answering: an AWS error in the call's own
protocol, never a plain-text 500 that an SDK reports as ``ResponseParserError``.

    gateway.guarded: moto raised ``exc`` while answering the call
      -> NotImplementedError (moto has no handler for the operation, or a backend method
         says so): not emulated. By default the operation is stubbed: an empty answer of the
         operation's output shape (status 200); in strict mode the error ``NotImplemented``
         (501, not retried by SDKs) "<service>:<Operation> is not emulated by moto 5.2.5".
         Either way the journal record carries ``"emulation": "stubbed"`` or ``"refused"``.
      -> any other exception: ``InternalFailure`` (500) with the exception's type and
         message, which every SDK raises as a modelled error (and retries, as for AWS).
    The answer is written by ``wire`` in the protocol the request used (query, ec2, json,
    rest-json, rest-xml, smithy-rpc-v2-cbor); the journal record gets ``error`` (the code)
    from the answer and ``message`` from here.
"""

from __future__ import annotations

import importlib.metadata
import json
from typing import Any

from motobox.aws import wire
from motobox.aws.gateway import Answer, Exchange
from motobox.aws.models import environ_protocol, service_model


def moto_version() -> str:
    return importlib.metadata.version("moto")


def exception_answer(exchange: Exchange, exc: BaseException, *, strict: bool) -> Answer:
    """The answer for a call whose backend raised ``exc``."""
    call = exchange.call
    operation = _operation(exchange)
    name = f"{call.service}:{call.operation}"
    if isinstance(exc, NotImplementedError):
        message = f"{name} is not emulated by moto {moto_version()}"
        if not call.operation and str(exc):  # no operation: say which URL moto has not
            message = f"{call.service}: {exc}: not emulated by moto {moto_version()}"
        if strict or operation is None or not call.operation:
            answer = error_answer(exchange, "NotImplemented", message, 501)
            answer.extra = {"emulation": "refused", "message": message}
            return answer
        response = wire.serialize_response(operation, protocol(exchange), {})
        answer = Answer(response.status, list(response.headers.items()), response.body)
        answer.extra = {"emulation": "stubbed", "message": message}
        return answer
    text = getattr(exc, "message", None) or str(exc)
    message = f"moto {moto_version()} failed: {type(exc).__name__}: {text}"
    answer = error_answer(exchange, "InternalFailure", message, 500)
    answer.extra = {"message": message}
    return answer


def protocol(exchange: Exchange) -> str:
    """The wire protocol of the call (the one identify read, else read off the request)."""
    call = exchange.call
    if call.protocol:
        return str(call.protocol)
    body = exchange.body if isinstance(exchange.body, bytes) else b""
    return environ_protocol(call.service or "", exchange.environ, body)


def _operation(exchange: Exchange) -> Any:
    call = exchange.call
    if not call.service:
        return None
    try:
        model = service_model(call.service)
        return model.operation_model(call.operation or model.operation_names[0])
    except Exception:
        return None


def error_answer(exchange: Exchange, code: str, message: str, status: int) -> Answer:
    """An AWS error answer in the protocol the call used (the JSON protocols' shape, with
    ``x-amzn-ErrorType``, when the call could not be identified)."""
    operation = _operation(exchange)
    if operation is not None:
        try:
            response = wire.serialize_error(operation, protocol(exchange), code, message, status)
            return Answer(response.status, list(response.headers.items()), response.body)
        except Exception:
            pass
    data = json.dumps({"__type": code, "message": message}).encode()
    return Answer(
        status,
        [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)],
        data,
    )
