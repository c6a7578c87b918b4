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
    fix_eventbridge_lambda_targets()
    fix_sns_lambda_records()
    if not getattr(models.LambdaBackend.send_sqs_batch, "motobox", False):
        send_sqs_batch.motobox = True  # type: ignore[attr-defined]
        models.LambdaBackend.send_sqs_batch = send_sqs_batch  # type: ignore[method-assign]


def _queued_attributes(queue_arn: str, message: Any) -> dict[str, Any]:
    """The message attributes the sender gave: the poller's ``receive_message`` (moto 5.2.5
    ``Queue._process_messages``) asks for none, so the copies it returns have them filtered
    out."""
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = queue_arn.split(":", 5)
    try:
        queue = sqs_backends[account][region].get_queue(name)
    except Exception:
        return {}
    for queued in list(getattr(queue, "_messages", [])):
        if queued.id == message.id:
            return dict(queued.message_attributes or {})
    return {}


def _sqs_record(
    message: Any, queue_arn: str, region: str, message_attributes_in: dict[str, Any]
) -> dict[str, Any]:
    """One message as Lambda's SQS poller hands it over (moto 5.2.5 ``_send_sqs_message``
    sends a sample: ``md5OfBody`` of "test", a 2018 ``SentTimestamp``, no message
    attributes)."""
    import base64

    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count or 1),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": str(message.sender_id),
        "ApproximateFirstReceiveTimestamp": str(
            message.approximate_first_receive_timestamp or message.sent_timestamp
        ),
    }
    if queue_arn.endswith(".fifo"):
        attributes.update(
            MessageGroupId=message.group_id,
            MessageDeduplicationId=message.deduplication_id,
            SequenceNumber=message.sequence_number,
        )
    message_attributes = {}
    for name, value in message_attributes_in.items():
        binary = value.get("BinaryValue")
        if isinstance(binary, (bytes, bytearray)):
            binary = base64.b64encode(binary).decode()
        message_attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": binary,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
    record = {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": {k: v for k, v in attributes.items() if v is not None},
        "messageAttributes": message_attributes,
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message_attributes:
        from moto.sqs.models import Message

        signed = Message(message.id, message.body)
        signed.message_attributes = message_attributes_in
        record["md5OfMessageAttributes"] = signed.attribute_md5
    return record


def send_sqs_batch(self: Any, function_arn: str, messages: Any, queue_arn: str) -> bool:
    """``LambdaBackend.send_sqs_batch``: the messages Lambda's poller received, in one event
    (moto 5.2.5 invokes the function once per message, ignoring ``BatchSize``); False when
    the function failed, so the queue makes them visible again."""
    if not messages:
        return True
    records = [
        _sqs_record(m, queue_arn, self.region_name, _queued_attributes(queue_arn, m))
        for m in messages
    ]
    if not records:
        return True
    response_headers: dict[str, Any] = {}
    self.invoke(
        function_name=function_arn,
        qualifier=None,
        body=json.dumps({"Records": records}),
        headers={},
        response_headers=response_headers,
    )
    return "x-amz-function-error" not in response_headers


def _eventbridge_envelope(event: Any) -> dict[str, Any]:
    """The event as EventBridge hands it to a target: moto's default input template drops
    ``account`` and leaves ``time`` as epoch seconds, where EventBridge sends ISO 8601."""
    from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp

    time = event.get("time")
    if isinstance(time, (int, float)):
        time = iso_8601_datetime_without_milliseconds(utcfromtimestamp(int(time)))
    keys = (
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    )
    out = {key: event.get(key) for key in keys}
    out["version"] = out["version"] or "0"
    out["time"] = time
    return out


def fix_eventbridge_lambda_targets() -> None:
    """An EventBridge rule whose target is a Lambda function invokes it (Event, as
    EventBridge does).

    moto 5.2.5 ``events.models.Rule.send_to_targets`` delivers to logs, SQS, archives, event
    buses and API destinations and raises ``NotImplementedError`` for any other target, so a
    ``PutEvents`` whose event matches a rule with a Lambda target (SAM's ``EventBridgeRule``
    and ``Schedule`` events, CDK's ``targets.LambdaFunction``) was answered ``{}`` as "not
    emulated", the function never ran, and the rule's later targets were skipped.
    """
    import copy as _copy

    from moto.events import models as events

    original = events.Rule.send_to_targets
    if getattr(original, "motobox", False):
        return

    def is_lambda(target: Any) -> bool:
        return str(target.get("Arn", "")).split(":")[2:3] == ["lambda"]

    @functools.wraps(original)
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        functions = [t for t in self.targets if is_lambda(t)]
        if not functions:
            return original(self, original_event, transform_input)
        rest = _copy.copy(self)
        rest.targets = [t for t in self.targets if not is_lambda(t)]
        if rest.targets:
            original(rest, original_event, transform_input)
        if not self.event_pattern.matches_event(original_event):
            return
        from moto.awslambda.utils import get_backend

        for target in functions:
            if "Input" in target:
                body = str(target["Input"])
            elif transform_input and not target.get("InputTransformer"):
                body = json.dumps(_eventbridge_envelope(original_event))
            elif transform_input:
                transformer = target.get("InputTransformer", {})
                event = events.EventTemplateParser.parse(
                    input_template=transformer.get("InputTemplate"),
                    input_paths_map=transformer.get("InputPathsMap", {}),
                    event=original_event,
                )
                body = event if isinstance(event, str) else json.dumps(event)
            else:
                body = json.dumps(original_event)
            arn = str(target["Arn"])
            backend = get_backend(arn.split(":")[4], arn.split(":")[3])
            fn = backend._lambdas.get_function_by_name_or_arn_with_qualifier(arn)
            with _calling("Event"):
                fn.invoke(body, {}, {})

    send_to_targets.motobox = True  # type: ignore[attr-defined]
    events.Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def _sns_record(
    subscription: Any,
    message: str,
    message_id: str,
    subject: str | None,
    message_attributes: dict[str, Any] | None,
) -> dict[str, Any]:
    """One SNS record as Lambda receives it: the topic, subscription, message id, time,
    attributes and the signature moto makes for HTTP subscribers (moto 5.2.5
    ``send_sns_message`` sends a sample: ``TopicArn`` "arn:aws:sns:EXAMPLE", a fixed
    ``MessageId``, a 1970 ``Timestamp`` and two attributes nobody sent)."""
    signed = subscription.get_post_data(message, message_id, subject, message_attributes)
    region = subscription.topic.sns_backend.region_name
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription.arn,
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": signed["SignatureVersion"],
            "Timestamp": signed["Timestamp"],
            "Signature": signed["Signature"],
            "SigningCertUrl": signed["SigningCertURL"],
            "MessageId": message_id,
            "Message": message,
            "MessageAttributes": dict(message_attributes or {}),
            "Type": "Notification",
            "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/"
            f"?Action=Unsubscribe&SubscriptionArn={subscription.arn}",
            "TopicArn": subscription.topic.arn,
            "Subject": subject or None,
        },
    }


def fix_sns_lambda_records() -> None:
    """A message published to a topic reaches a subscribed function as itself.

    moto 5.2.5 ``Subscription.publish`` hands a ``lambda`` subscriber only the message text
    and subject (``LambdaBackend.send_sns_message``), which wraps them in a sample record (see
    ``_sns_record``): a function that routes on ``TopicArn`` or reads ``MessageAttributes``
    got the sample's. Here the record is built from the subscription, topic and message, and
    the function is invoked as Event, as SNS does. Filter policies and ``MessageStructure``
    are moto's.
    """
    from moto.sns import models as sns

    original = sns.Subscription.publish
    if getattr(original, "motobox", False):
        return

    @functools.wraps(original)
    def publish(
        self: Any,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> None:
        if self.protocol != "lambda":
            return original(
                self,
                message,
                message_id,
                subject,
                message_attributes,
                group_id,
                deduplication_id,
                message_structure,
            )
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return None
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        from moto.awslambda.utils import get_backend

        arn = str(self.endpoint).split(":")
        qualifier = arn[7] if len(arn) == 8 else None
        backend = get_backend(self.account_id, arn[3])
        fn = backend._lambdas.get_function_by_name_or_arn_with_qualifier(arn[6], qualifier)
        event = {"Records": [_sns_record(self, message, message_id, subject, message_attributes)]}
        with _calling("Event"):
            fn.invoke(json.dumps(event), {}, {})
        return None

    publish.motobox = True  # type: ignore[attr-defined]
    sns.Subscription.publish = publish  # type: ignore[method-assign]
