"""Fixes of moto behaviour that motobox needs, applied once with ``apply()``.

Each fix is a small function whose docstring names the moto behaviour it corrects (moto is
pinned to 5.2.5 in pyproject.toml) and has a test in ``tests/test_moto_fixes.py`` that fails
without it. The gateway calls ``apply()`` before moto serves its first request, and tells the
fixes about the request in flight through ``request_context`` (moto answers a request in the
thread that received it).
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_context = threading.local()


@contextlib.contextmanager
def request_context(*, signature_version: str | None) -> Iterator[None]:
    """Condition values of the request moto is answering in this thread."""
    values: dict[str, str] = {}
    if signature_version == "v4":
        values["s3:signatureversion"] = "AWS4-HMAC-SHA256"
    elif signature_version == "v2":
        values["s3:signatureversion"] = "AWS"
    previous = getattr(_context, "values", None)
    _context.values = values
    try:
        yield
    finally:
        _context.values = previous


def _condition_values() -> dict[str, str]:
    return dict(getattr(_context, "values", None) or {})


def fix_bucket_policy_conditions() -> None:
    """Bucket policies: a statement whose condition does not hold does not apply.

    moto 5.2.5 ``IAMPolicyStatement.is_action_permitted`` answers DENIED for any statement
    whose ``Condition`` fails, whatever its ``Effect``, and ``FakeBucket.get_permission``
    passes no request context, so every condition fails. taskcat 0.9.58 puts this statement
    on its artifact bucket:

        {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Condition": {"StringEquals": {"s3:signatureversion": "AWS"}}}

    which then denies every ``PutObject`` (403) and taskcat fails. In AWS a statement whose
    condition does not match is simply not applicable. We evaluate bucket policies with the
    request's ``s3:signatureversion`` (``AWS4-HMAC-SHA256`` for SigV4, ``AWS`` for SigV2) and
    skip statements whose condition fails. Only ``FakeBucket.get_permission`` changes: IAM
    trust policies, evaluated elsewhere through the same statement class, keep moto's outcome.
    Upstream: PutObject has checked bucket policies for new objects since getmoto/moto#7840
    (fixing #7837, moto 5.0.12), which is when this statement started to deny; conditions are
    still evaluated without a request context in 5.2.5, and no moto issue tracks that (searched
    2026-11).
    """
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        import json

        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        values = _condition_values()
        permitted = False
        for raw in statements:
            statement = IAMPolicyStatement(raw)
            if raw.get("Condition") and not statement._check_conditions(values):
                continue  # the condition does not hold: the statement does not apply
            result = statement.is_action_permitted(action, resource, None, values)
            if result == PermissionResult.DENIED:
                return result
            if result == PermissionResult.PERMITTED:
                permitted = True
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    get_permission.__doc__ = fix_bucket_policy_conditions.__doc__
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def fix_stack_resource_status() -> None:
    """Stack resources report the status motobox gave them (``fail_stack``).

    moto 5.2.5 answers ``ListStackResources`` with ``ResourceStatus: CREATE_COMPLETE``
    hard-coded ("FIXME: This was migrated from the original XML template") and
    ``DescribeStackResources`` with the stack's status for every resource. A forced stack
    failure marks the failed resource (``motobox_status``, ``motobox_status_reason``); these
    answers now read it, so every CloudFormation read tells the same story.
    """
    from moto.cloudformation import responses

    def status_of(resource: Any, default: str) -> str:
        return str(getattr(resource, "motobox_status", None) or default)

    original_dto_init = responses.StackResourceDTO.__init__

    def dto_init(self: Any, stack: Any, resource: Any) -> None:
        original_dto_init(self, stack, resource)
        self.resource_status = status_of(resource, stack.status)
        reason = getattr(resource, "motobox_status_reason", None)
        if reason:
            self.resource_status_reason = reason

    responses.StackResourceDTO.__init__ = dto_init  # type: ignore[method-assign]

    original_list = responses.CloudFormationResponse.list_stack_resources

    def list_stack_resources(self: Any) -> Any:
        result = original_list(self)
        stack, resources = self.cloudformation_backend.list_stack_resources(
            self._get_param("StackName")
        )
        by_id = {getattr(r, "logical_resource_id", None): r for r in resources}
        for summary in result.result["StackResourceSummaries"]:  # type: ignore[index]
            resource = by_id.get(summary["LogicalResourceId"])
            default = "CREATE_COMPLETE" if stack.status != "CREATE_FAILED" else stack.status
            summary["ResourceStatus"] = status_of(resource, default)
            reason = getattr(resource, "motobox_status_reason", None)
            if reason:
                summary["ResourceStatusReason"] = reason
        return result

    responses.CloudFormationResponse.list_stack_resources = list_stack_resources  # type: ignore[method-assign]


#: Fixes by the moto service they patch; a fix is applied when its service is first called,
#: so motobox does not import moto's CloudFormation (0.8 s) for a program that never uses it.
def fix_method_names_per_request() -> None:
    """moto 5.2.5 (``BaseResponse.call_action``) lists every method of the response class with
    ``inspect.getmembers`` on every request, to find the action's handler: about 0.16 ms of a
    1.3 ms sts:GetCallerIdentity. A class's methods do not change while moto serves, so the list
    is kept per class."""
    import moto.core.responses as responses

    original = responses.method_names_from_class
    if getattr(original, "motobox_cached", False):
        return
    cache: dict[type, list[str]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        names = cache.get(clazz)
        if names is None:
            names = cache[clazz] = original(clazz)
        return list(names)

    method_names_from_class.motobox_cached = True  # type: ignore[attr-defined]
    responses.method_names_from_class = method_names_from_class


def fix_service_model_loader() -> None:
    """moto 5.2.5 (``moto.core.utils._load_service_model``) makes a new botocore ``Loader``
    for every model it loads, and a new loader lists all ~450 service folders again (about
    1,000 ``stat`` calls, 25 ms) before it reads one file: a program's first call to each
    service pays it (taskcat touches six). One loader, kept for the process, lists them once;
    and the list itself is kept in the user's cache, so the first call of a run skips it too."""
    import moto.core.utils as utils

    if getattr(utils._load_service_model, "motobox_shared", False):
        return
    loader = _cached_list_loader()
    loader_lock = threading.Lock()

    def _load_service_model(service_name: str, model_name: str) -> dict[str, Any]:
        with loader_lock:  # each model is loaded once: moto's get_service_model caches it
            model: dict[str, Any] = loader.load_service_model(service_name, model_name)
        return model

    _load_service_model.motobox_shared = True  # type: ignore[attr-defined]
    utils._load_service_model = _load_service_model


def _cached_list_loader() -> Any:
    """moto's loader (the same search paths) whose list of services with a ``service-2``
    model comes from the user's cache when the search paths hold only botocore's and moto's
    own data (a user's ``~/.aws/models`` is listed afresh every time)."""
    import moto
    from moto.core.loaders import Loader, moto_root

    from motobox import usercache

    class CachedListLoader(Loader):
        listed: list[str] | None = None

        def list_available_services(self, type_name: str) -> list[str]:
            own = {os.path.realpath(p) for p in (self.BUILTIN_DATA_PATH, moto_root)}
            if type_name != "service-2" or any(
                os.path.realpath(p) not in own and os.path.isdir(p) for p in self.search_paths
            ):
                return list(super().list_available_services(type_name))
            if self.listed is None:
                self.listed = usercache.cached(
                    "model-services",
                    f"{usercache.botocore_tag()}-moto{moto.__version__}",
                    lambda: super(CachedListLoader, self).list_available_services(type_name),
                    functools.partial(usercache.is_list_of, str),
                )
            return list(self.listed)

    return CachedListLoader(extra_search_paths=[moto_root])


FIXES = {
    "core": (fix_method_names_per_request, fix_service_model_loader),  # every service
    "s3": (fix_bucket_policy_conditions,),
    "cloudformation": (fix_stack_resource_status,),
}
_done: set[str] = set()


def apply(service: str | None = None) -> None:
    """Apply the fixes for ``service`` (every fix when None; only those every service needs
    when "core") and the core ones once;
    thread-safe."""
    if "core" in _done and (service in _done or (service is not None and service not in FIXES)):
        return
    with _lock:
        for name, fixes in FIXES.items():
            wanted = service is None or name in (service, "core")
            if wanted and name not in _done:
                for fix in fixes:
                    fix()
                _done.add(name)


STREAMING_PAYLOADS = (
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
)


def decode_aws_chunked(environ: dict[str, Any], stream: Any, out: Any) -> int | None:
    """An ``aws-chunked`` S3 upload decoded from ``stream`` into ``out``, a chunk at a time.

    moto 5.2.5 (``S3Response.setup_class``) keeps the raw body and builds the decoded one by
    concatenating bytes, so a 50 MiB upload over HTTPS (botocore sends those aws-chunked with a
    checksum trailer) holds two or three copies at once. The gateway calls this for large bodies
    only: moto then gets a plain body (``UNSIGNED-PAYLOAD``, the decoded length) and reads it
    once. Trailers are dropped, as moto drops them. Returns the decoded length, or None when the
    request is not aws-chunked (``stream`` is then left as it was)."""
    if environ.get("HTTP_X_AMZ_CONTENT_SHA256") not in STREAMING_PAYLOADS:
        return None
    total = 0
    while True:
        line = stream.readline(65537)
        if not line:
            break
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        while size:
            block = stream.read(min(size, 1 << 20))
            if not block:
                break
            out.write(block)
            size -= len(block)
            total += len(block)
        stream.readline(3)  # the CRLF after the chunk
    encodings = [
        e.strip()
        for e in environ.get("HTTP_CONTENT_ENCODING", "").split(",")
        if e.strip() and e.strip() != "aws-chunked"
    ]
    if encodings:
        environ["HTTP_CONTENT_ENCODING"] = ",".join(encodings)
    else:
        environ.pop("HTTP_CONTENT_ENCODING", None)
    for key in ("HTTP_X_AMZ_DECODED_CONTENT_LENGTH", "HTTP_X_AMZ_TRAILER"):
        environ.pop(key, None)
    environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
    environ["CONTENT_LENGTH"] = str(total)
    return total
