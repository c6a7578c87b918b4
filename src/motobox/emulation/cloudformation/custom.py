"""Custom resources (``Custom::*``, ``AWS::CloudFormation::CustomResource``) as CloudFormation
runs them: a request to the function behind ``ServiceToken``, and an answer PUT to the
request's ``ResponseURL``.

    engine -> create / update / delete(...)
        -> the request CloudFormation sends: RequestType (Create, Update, Delete),
           ResponseURL, StackId, RequestId, LogicalResourceId, ResourceType,
           ResourceProperties (ServiceToken included), OldResourceProperties (Update),
           PhysicalResourceId (Update, Delete)
        -> who answers, in order:
             a scenario rule ``custom_resource: {status, data, physical_id, reason}``
                 matched by resource type or logical id (no code runs; Delete of such a
                 resource succeeds)
             the Lambda function of the ServiceToken, invoked as an Event
                 (``invoke_function``: one adapter, so the Lambda executor can take over)
             nothing: a ServiceToken that is no Lambda function of this cloud (an SNS
                 topic) is not emulated: stubbed, or CREATE_FAILED in strict mode
        -> the wait: the answer arrives as ``PUT /_motobox/cfn-response/<token>``
           (``respond``, served by the control API) at the ResponseURL the function got
           (``response_url``): the cloud's own port for Python functions (cfnresponse sends
           with urllib3, which ignores HTTPS_PROXY: a real AWS host there would leave an
           unsealed run, the cloud's port never does); an AWS-shaped https host for Node.js
           functions, whose handlers (AWS CDK's) send to port 443 of the URL's host name.
           No answer within the function's timeout plus MARGIN seconds fails the resource
           with CloudFormation's words; so does an invocation that ended without answering,
           at once (one that failed) or LATE seconds after its end (one that returned): Lambda
           freezes what a handler leaves running and motobox does not retry Event
           invocations, so no answer can come later, and CloudFormation would only say the
           same after its own wait (an hour by default).
        -> SUCCESS: the resource's physical id and ``Data`` (``Fn::GetAtt``);
           FAILED: CREATE_FAILED "Received response status [FAILED] from custom resource.
           Message returned: <Reason> (RequestId: ...)"

Every request is journaled (``kind: cfn``, ``event: custom-resource``) with who answered.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from motobox.control import register_app
from motobox.emulation.cloudformation import stubs
from motobox.emulation.cloudformation.engine import ResourceFailure, journal, moto_version, strict
from motobox.emulation.context import RequestInfo, carried

if TYPE_CHECKING:
    from motobox.emulation.cloudformation.engine import StackRun

RESPONSE_PATH = "/_motobox/cfn-response/"
#: Seconds waited beyond the function's own timeout for its answer.
MARGIN = 10.0
#: Seconds an answer may still take once the function's invocation has ended (a PUT the
#: handler did not wait for).
LATE = 2.0


@dataclass
class _Pending:
    request: dict[str, Any]
    #: Set by the answer, or by the end of the function's invocation.
    done: threading.Event = field(default_factory=threading.Event)
    response: dict[str, Any] | None = None
    #: The invocation ended before an answer came (``end``).
    ended: bool = False
    #: Why no answer can come: the invocation ended in an error without answering.
    failure: str | None = None

    def end(self, result: Any) -> None:
        """The function's invocation ended (its ``lambdas.Result``)."""
        self.ended = True
        if result.status != "ok":
            self.failure = _failure_words(result)
        self.done.set()


_pending: dict[str, _Pending] = {}
_lock = threading.Lock()


class CustomResource:
    """A custom resource as its function (or a scenario) answered it."""

    def __init__(
        self,
        type_name: str,
        logical_id: str,
        physical_id: str,
        data: Mapping[str, Any],
        properties: Mapping[str, Any],
        *,
        stack_id: str,
        answered_by: str,
        stubbed: bool = False,
    ) -> None:
        self.cf_resource_type = type_name
        self.logical_resource_id = logical_id
        self.physical_resource_id = physical_id
        self.data = dict(data or {})
        self.properties = dict(properties)
        self.stack_id = stack_id
        self.answered_by = answered_by
        self.stubbed = stubbed

    def get_cfn_attribute(self, name: str) -> Any:
        if name in self.data:
            return self.data[name]
        if self.stubbed:
            return f"{self.physical_resource_id}-{name}"
        raise ResourceFailure(
            f"CustomResource attribute error: Vendor response doesn't contain {name} key in "
            f"the answer to {self.logical_resource_id} ({self.cf_resource_type})"
        )

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def is_created(self) -> bool:
        return True


def create(
    run: StackRun, logical_id: str, type_name: str, properties: dict[str, Any]
) -> CustomResource:
    return _send(run, "Create", logical_id, type_name, properties)


def update(run: StackRun, old: CustomResource, properties: dict[str, Any]) -> CustomResource:
    return _send(
        run,
        "Update",
        old.logical_resource_id,
        old.cf_resource_type,
        properties,
        old=old,
    )


def delete(run: StackRun, instance: CustomResource) -> None:
    if instance.answered_by in ("scenario", "stub"):
        _journal(
            run,
            instance.logical_resource_id,
            instance.cf_resource_type,
            "Delete",
            instance.answered_by,
            "SUCCESS",
            None,
        )
        return
    _send(
        run,
        "Delete",
        instance.logical_resource_id,
        instance.cf_resource_type,
        instance.properties,
        old=instance,
    )


def _send(
    run: StackRun,
    request_type: str,
    logical_id: str,
    type_name: str,
    properties: dict[str, Any],
    *,
    old: CustomResource | None = None,
) -> CustomResource:
    info = run.info
    token = uuid.uuid4().hex
    request_id = str(uuid.uuid4())
    endpoint = info.cloud.endpoint_url if info.cloud is not None else "http://127.0.0.1"
    service_token = str(properties.get("ServiceToken") or "")
    request: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": f"{endpoint}{RESPONSE_PATH}{token}",
        "StackId": run.stack.stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "ResourceType": type_name,
        "ResourceProperties": properties,
    }
    if old is not None:
        request["PhysicalResourceId"] = old.physical_resource_id
        if request_type == "Update":
            request["OldResourceProperties"] = old.properties
    naming = stubs.Naming(type_name, logical_id, run.stack.name, run.account, run.region)

    def made(response: Mapping[str, Any], answered_by: str, stubbed: bool = False) -> Any:
        physical = response.get("PhysicalResourceId") or (
            old.physical_resource_id if old is not None else None
        )
        if not physical:
            raise ResourceFailure(
                f"Invalid PhysicalResourceId: the answer to {logical_id} ({type_name}) has none"
            )
        return CustomResource(
            type_name,
            logical_id,
            str(physical),
            response.get("Data") or {},
            properties,
            stack_id=run.stack.stack_id,
            answered_by=answered_by,
            stubbed=stubbed,
        )

    # 1. a scenario rule
    rules = getattr(info.cloud, "rules", None) if info.cloud is not None else None
    rule = None
    if rules is not None and hasattr(rules, "select_custom_resource"):
        rule = rules.select_custom_resource(
            type_name, logical_id, run.stack.name, run.account, run.region
        )
    if rule is not None:
        answer = rule.custom_resource
        response = {
            "Status": answer.status,
            "PhysicalResourceId": answer.physical_id
            or (old.physical_resource_id if old is not None else naming.generated_name()),
            "Data": dict(answer.data or {}),
            "Reason": answer.reason,
        }
        _journal(run, logical_id, type_name, request_type, "scenario", answer.status, rule.source)
        _check(response, request_id)
        return made(response, "scenario")

    # 2. the Lambda function of the ServiceToken
    function = _function(service_token, run.account, run.region)
    if function is None:
        if service_token.startswith("arn:") and ":lambda:" in service_token:
            _journal(run, logical_id, type_name, request_type, "none", "FAILED", None)
            raise ResourceFailure(
                f"Received response status [FAILED] from custom resource. Message returned: "
                f"Function not found: {service_token} (RequestId: {request_id})"
            )
        message = (
            f"{type_name} with ServiceToken {service_token or '(none)'} is not emulated by "
            f"moto {moto_version()}"
        )
        if strict(info):
            run._journal_resource(logical_id, type_name, "refused")
            raise ResourceFailure(message)
        run._journal_resource(logical_id, type_name, "stubbed")
        stub = {"PhysicalResourceId": naming.generated_name(), "Data": {}}
        if old is not None:
            stub["PhysicalResourceId"] = old.physical_resource_id
        return made(stub, "stub", stubbed=True)

    request["ResponseURL"] = response_url(endpoint, token, run.region, function)
    pending = _Pending(request)
    with _lock:
        _pending[token] = pending
    try:
        failure = invoke_function(info, function, json.dumps(request).encode(), pending.end)
        timeout = float(getattr(function, "timeout", 3) or 3) + MARGIN
        if failure is None:
            pending.done.wait(timeout)
            if pending.response is None and pending.ended and pending.failure is None:
                late = time.monotonic() + LATE  # it returned: a last answer may be on its way
                while pending.response is None and time.monotonic() < late:
                    time.sleep(0.05)
            failure = None if pending.response is not None else pending.failure
    finally:
        with _lock:
            _pending.pop(token, None)
    answered = pending.response
    if answered is None:
        status = "NO_RESPONSE" if pending.ended else "TIMEOUT"
        status = "FAILED" if failure is not None else status
        _journal(run, logical_id, type_name, request_type, "function", status, None)
        if failure is not None:
            raise ResourceFailure(
                f"Received no response from custom resource: the function "
                f"{getattr(function, 'function_name', service_token)} failed before it "
                f"answered: {failure} (RequestId: {request_id})"
            )
        raise ResourceFailure(
            "CloudFormation did not receive a response from your Custom Resource. Please check "
            f"your logs for requestId [{request_id}]. If you are using the Python cfn-response "
            "module, you may need to update your Lambda function code so that CloudFormation "
            "can attach the updated version."
        )
    _journal(
        run, logical_id, type_name, request_type, "function", str(answered.get("Status")), None
    )
    _check(answered, request_id)
    return made(answered, "function")


def response_url(endpoint: str, token: str, region: str, function: Any) -> str:
    """Where ``function`` PUTs its answer. Python's ``cfnresponse`` (urllib3) and motobox's
    ``cfn-response`` use the URL's own scheme and port: the cloud's address, reachable sealed
    or not. Node.js handlers written for AWS (AWS CDK's provider framework among them) take
    the host name alone and send HTTPS to port 443, as CloudFormation's pre-signed S3 URLs
    allow: they get such a host, which a sealed run resolves to motobox's 443 and an unsealed
    one reaches through the egress proxy (the Node.js runtime's agent, ``bootstrap.js``); the
    egress control hands AWS hosts to the cloud, whose control API answers the path."""
    if not str(getattr(function, "run_time", "") or "").startswith("nodejs"):
        return f"{endpoint}{RESPONSE_PATH}{token}"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    bucket = f"cloudformation-custom-resource-response-{region.replace('-', '')}"
    return f"https://{bucket}.s3.{region}.{suffix}{RESPONSE_PATH}{token}"


def _check(response: Mapping[str, Any], request_id: str) -> None:
    status = str(response.get("Status") or "")
    if status == "SUCCESS":
        return
    reason = response.get("Reason") or "(no reason)"
    if status != "FAILED":
        reason = f"Invalid response status {status!r}; expected SUCCESS or FAILED"
    raise ResourceFailure(
        f"Received response status [FAILED] from custom resource. Message returned: {reason} "
        f"(RequestId: {request_id})"
    )


def _journal(
    run: StackRun,
    logical_id: str,
    type_name: str,
    request_type: str,
    answered_by: str,
    status: str,
    forced: str | None,
) -> None:
    journal(
        run.info,
        {
            "event": "custom-resource",
            "account": run.account,
            "region": run.region,
            "stack": run.stack.name,
            "stack_id": run.stack.stack_id,
            "logical_id": logical_id,
            "type": type_name,
            "request": request_type,
            "answered_by": answered_by,
            "status": status,
            "forced": forced,
        },
    )


def _function(service_token: str, account: str, region: str) -> Any:
    """The Lambda function a ServiceToken names in this cloud, or None."""
    if not service_token:
        return None
    if service_token.startswith("arn:") and ":lambda:" not in service_token:
        return None
    from moto.awslambda.utils import get_backend

    parts = service_token.split(":")
    if service_token.startswith("arn:") and len(parts) >= 6:
        account, region = parts[4] or account, parts[3] or region
        if parts[5] != "function":
            # arn:aws:lambda:REGION:ACCOUNT:NAME[:QUALIFIER] (no "function:"), which Lambda's
            # FunctionName pattern accepts and moto's ARN split does not
            service_token = ":".join([*parts[:5], "function", *parts[5:]])
    try:
        return get_backend(account, region).get_function(service_token)
    except Exception:
        return None


def invoke_function(
    info: RequestInfo,
    function: Any,
    payload: bytes,
    on_end: Callable[[Any], None] | None = None,
) -> str | None:
    """Start ``function`` with ``payload`` as an asynchronous (Event) invocation, as
    CloudFormation does, through motobox's Lambda executor (``emulation.lambdas``); the words
    of a failure that means no answer can come (a runtime this machine lacks), else None.
    ``on_end`` gets the invocation's result (``lambdas.Result``) when it has ended."""
    from motobox.emulation.lambdas import FunctionNotFound, invoke

    with carried(info):
        try:
            result = invoke(
                info.account or function.account_id,
                info.region or function.region,
                function.function_arn,
                payload,
                invocation_type="Event",
                on_done=on_end,
            )
        except FunctionNotFound as exc:
            return str(exc)
    if result.status in ("queued", "ok"):
        return None
    return _failure_words(result)


def _failure_words(result: Any) -> str:
    error = result.error or {}
    words = str(error.get("errorMessage") or result.payload.decode("utf-8", "replace"))
    if error.get("errorType"):
        words = f"{error['errorType']}: {words}"
    return words


# -- the answer's way back -------------------------------------------------------------------


def respond(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``PUT /_motobox/cfn-response/<token>``: a custom resource's answer (served by the
    control API, ``motobox.control``)."""
    token = str(environ.get("PATH_INFO", "")).rsplit("/", 1)[-1]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ.get("wsgi.input")
    body = stream.read(length) if stream is not None and length else b""
    with _lock:
        pending = _pending.get(token)
    if environ.get("REQUEST_METHOD") != "PUT" or pending is None:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    try:
        response = json.loads(body or b"{}")
        if not isinstance(response, dict):
            raise ValueError("not an object")
    except ValueError:
        response = {"Status": "FAILED", "Reason": "the answer was not a JSON object"}
    pending.response = response
    pending.done.set()
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


register_app("cfn-response", respond)
