"""What the program gets when moto raises instead of answering: an AWS error in the call's own
protocol, never a plain-text 500 that an SDK reports as ``ResponseParserError``.

    gateway: moto raised ``exc`` while answering ``call``
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

from typing import Any

from motobox.aws import wire
from motobox.aws.gateway import Answer, Body
from motobox.aws.identify import Call


def moto_version() -> str:
    import moto

    return str(moto.__version__)


def exception_answer(
    call: Call, environ: dict[str, Any], body: Body, exc: BaseException, *, strict: bool
) -> Answer:
    """The answer for a call whose backend raised ``exc``."""
    operation = _operation(call)
    name = f"{call.service}:{call.operation}"
    if isinstance(exc, NotImplementedError):
        message = f"{name} is not emulated by moto {moto_version()}"
        if strict or operation is None:
            answer = _error(call, environ, body, operation, "NotImplemented", message, 501)
            answer.extra = {"emulation": "refused", "message": message}
            return answer
        protocol = wire.call_protocol(call, environ, body)
        response = wire.serialize_response(operation, protocol, {})
        answer = Answer(response.status, list(response.headers.items()), response.body)
        answer.extra = {"emulation": "stubbed", "message": message}
        return answer
    text = getattr(exc, "message", None) or str(exc)
    message = f"moto {moto_version()} failed: {type(exc).__name__}: {text}"
    answer = _error(call, environ, body, operation, "InternalFailure", message, 500)
    answer.extra = {"message": message}
    return answer


def _operation(call: Call) -> Any:
    if not call.service:
        return None
    try:
        from moto.core.utils import get_service_model

        model = get_service_model(call.service)
        name = call.operation or model.operation_names[0]
        return model.operation_model(name)
    except Exception:
        return None


def _error(
    call: Call,
    environ: dict[str, Any],
    body: Body,
    operation: Any,
    code: str,
    message: str,
    status: int,
) -> Answer:
    if operation is None:  # not an AWS call we know: the JSON protocols' shape
        import json

        data = json.dumps({"__type": code, "message": message}).encode()
        return Answer(
            status,
            [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)],
            data,
        )
    protocol = wire.call_protocol(call, environ, body)
    response = wire.serialize_error(operation, protocol, code, message, status)
    return Answer(response.status, list(response.headers.items()), response.body)
