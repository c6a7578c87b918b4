"""Where moto hands a function's execution to motobox's executor (moto 5.2.5).

moto keeps functions, versions, aliases, layers and event source mappings; everything that
runs one ends in ``LambdaFunction.invoke(body, request_headers, response_headers)``, which
moto implements with Docker (``_invoke_lambda``: a container per invocation, and without a
Docker engine "error running docker" as the payload). ``fix_lambda_execution`` replaces that
method; the callers are left as moto wrote them:

    lambda:Invoke, InvokeAsync        LambdaResponse.invoke / invoke_async -> backend.invoke
    SQS event source mappings         SQS SendMessage -> LambdaBackend.send_sqs_batch (sync,
                                      as Lambda's poller invokes; an error leaves the
                                      messages in the queue)
    Kinesis, DynamoDB streams         send_kinesis_message / send_dynamodb_items (sync)
    S3 notifications, SNS, Logs       s3.notifications._invoke_awslambda, send_sns_message,
    subscription filters              send_log_event: Event invocations (asynchronous, as on
                                      Lambda), so a PutObject or Publish never waits for the
                                      function

Which kind of call is running is told by a thread-local that small wrappers around those
callers set; ``invoke`` then picks the invocation type: the request's
``X-Amz-Invocation-Type`` for API calls, Event for the asynchronous triggers,
RequestResponse for the rest. The wrappers change nothing else.

One more moto 5.2.5 bug is mended here: ``LambdaResponse.invoke`` reads the qualifier as
``qualifier`` while SDKs send ``?Qualifier=``, so ``Invoke(Qualifier="1")`` ran ``$LATEST``
(and an event with a "qualifier" key chose the version, since the body is searched too). For
an API call, ``invoke`` runs the version or alias the request's ``Qualifier`` names
(``test_a_published_version_runs_its_own_code``).

No upstream issue asks moto to run functions without Docker; the Docker-less mode moto offers
(``awslambda_simple``) answers a canned payload and runs nothing. The tests in
``tests/test_lambda_*.py`` fail without this fix (moto's answer is "error running docker").
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from motobox.emulation.lambdas import executor

_mode = threading.local()


@contextmanager
def _calling(mode: str, response: Any = None) -> Iterator[None]:
    previous = getattr(_mode, "value", None), getattr(_mode, "response", None)
    _mode.value, _mode.response = mode, response
    try:
        yield
    finally:
        _mode.value, _mode.response = previous


def _as(mode: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            response = args[0] if mode == "api" else None
            with _calling(mode, response):
                return original(*args, **kwargs)

        wrapper.motobox_mode = mode  # type: ignore[attr-defined]
        return wrapper

    return wrap


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return str(value) if value is not None else None


def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    """``LambdaFunction.invoke``, run by motobox's executor (see the module docstring)."""
    mode = getattr(_mode, "value", None)
    if mode == "api":
        invocation_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    elif mode == "Event":
        invocation_type = "Event"
    else:
        invocation_type = "RequestResponse"
    payload = body.encode() if isinstance(body, str) else bytes(body or b"")
    if not payload.strip():
        payload = b"{}"
    if mode == "api":
        try:
            json.loads(payload)
        except ValueError:
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError(
                "InvalidRequestContentException", "Could not parse request body into json"
            ) from None
    response = getattr(_mode, "response", None)
    fn = _requested_version(self, response) if mode == "api" else self
    invoked_arn = _invoked_arn(fn, response)
    result = executor.run(fn, payload, invocation_type, invoked_arn=invoked_arn)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    if invocation_type == "RequestResponse":
        # moto's response drops it unless the request asked for X-Amz-Log-Type: Tail
        response_headers["x-amz-log-result"] = executor.tail_header(result)
    response_headers["x-amz-executed-version"] = str(fn.version)
    return result.payload


def _query(response: Any, name: str) -> str | None:
    values = (getattr(response, "querystring", None) or {}).get(name) or [None]
    return str(values[0]) if values[0] else None


def _requested_version(fn: Any, response: Any) -> Any:
    """The function version the request's ``Qualifier`` names (moto looks for
    ``qualifier``, see the module docstring)."""
    qualifier = _query(response, "Qualifier")
    if not qualifier:
        return fn
    from moto.awslambda.utils import get_backend

    name = unquote(response.path.rsplit("/", 2)[-2])
    return get_backend(fn.account_id, fn.region).get_function(name, qualifier)


def _invoked_arn(fn: Any, response: Any) -> str:
    """The ARN the caller named (with its alias or version), as ``context`` reports it."""
    if response is None:
        return str(fn.function_arn)
    name = unquote(response.path.rsplit("/", 2)[-2])
    qualifier = _query(response, "Qualifier")
    if name.startswith("arn:"):
        base = name
    else:
        from moto.awslambda.utils import make_function_arn

        short, _, alias = name.partition(":")
        base = make_function_arn(fn.region, fn.account_id, short) + (f":{alias}" if alias else "")
    if qualifier and base.count(":") == 6:
        base += f":{qualifier}"
    return str(base)


def fix_lambda_execution() -> None:
    """Functions run on this machine's interpreters instead of Docker (module docstring)."""
    import moto.s3.notifications as notifications
    from moto.awslambda import models, responses

    if getattr(models.LambdaFunction.invoke, "motobox", False):
        return
    invoke.motobox = True  # type: ignore[attr-defined]
    models.LambdaFunction.invoke = invoke  # type: ignore[method-assign]
    responses.LambdaResponse.invoke = _as("api")(responses.LambdaResponse.invoke)  # type: ignore[method-assign]
    responses.LambdaResponse.invoke_async = _as("Event")(  # type: ignore[method-assign]
        responses.LambdaResponse.invoke_async
    )
    notifications._invoke_awslambda = _as("Event")(notifications._invoke_awslambda)
    for name in ("send_sns_message", "send_log_event"):
        setattr(models.LambdaBackend, name, _as("Event")(getattr(models.LambdaBackend, name)))
