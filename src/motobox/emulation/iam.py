"""IAM as AWS has it: the AWS managed policies exist."""

from __future__ import annotations

import functools
import inspect
import json
import threading
from typing import Any

from motobox.emulation.core import after_import

_AWS_POLICY = ":iam::aws:policy/"
_lock = threading.Lock()
_data: dict[str, Any] = {}


def _aws_policies() -> dict[str, Any]:
    """moto's copy of the AWS managed policies, by name (parsed once, ~18 ms)."""
    with _lock:
        if not _data:
            from moto.iam.aws_managed_policies import aws_managed_policies_data

            _data.update(json.loads(aws_managed_policies_data))
        return _data


def _materialize(backend: Any, policy_arn: Any) -> None:
    """Put the AWS managed policy ``policy_arn`` names into ``backend`` if it is not there."""
    if not isinstance(policy_arn, str) or _AWS_POLICY not in policy_arn:
        return
    if policy_arn in backend.managed_policies:
        return
    name = policy_arn.rsplit("/", 1)[-1]
    data = _aws_policies().get(name)
    if data is None or not policy_arn.endswith(data.get("Path", "/") + name):
        return  # not an AWS managed policy: moto answers NoSuchEntity, as AWS does
    from moto.iam.models import AWSManagedPolicy

    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    if policy.arn == policy_arn:
        backend.aws_managed_policies.append(policy)
        backend.managed_policies[policy.arn] = policy


def fix_aws_managed_policies() -> None:
    """``arn:aws:iam::aws:policy/...`` policies exist in every account, as on AWS.

    moto 5.2.5 loads its copy of the AWS managed policies only when told to
    (``load_aws_managed_policies``, default False), so ``AttachRolePolicy`` with
    ``arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`` (every CDK function's
    role, most SAM ones) answers ``NoSuchEntity: Policy ... does not exist or is not
    attachable.`` where AWS attaches it. Loading all 1,582 costs ~55 ms and their memory in
    every account an IAM backend is made for (GetCallerIdentity makes one), so a policy is
    made in an account the first time a call names its ARN (attach, get, versions, tags).
    ``ListPolicies`` with ``Scope=AWS`` lists only those. Upstream: moto's option, off by
    default. Test: ``test_cfn_moto_fixes.py::test_managed_policy_arns_are_attached_and_the_
    stack_deletes``. Applied when ``moto.iam.models`` is first imported (the first call that
    needs an IAM backend imports it), not at start: importing it is ~25 ms of start-up.
    """
    after_import("moto.iam.models", _wrap_policy_arn_methods, lambda m: hasattr(m, "iam_backends"))


def _wrap_policy_arn_methods(models: Any) -> None:
    IAMBackend = models.IAMBackend
    for name, method in list(vars(IAMBackend).items()):  # its own methods take the ARNs
        if not inspect.isfunction(method) or getattr(method, "motobox", False):
            continue
        code = method.__code__  # the names, without inspect.signature's ~20 us a method
        parameters = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        if "policy_arn" not in parameters:
            continue
        position = parameters.index("policy_arn")

        def wrapped(*args: Any, _method: Any = method, _at: int = position, **kwargs: Any) -> Any:
            arn = kwargs.get("policy_arn", args[_at] if len(args) > _at else None)
            _materialize(args[0], arn)
            return _method(*args, **kwargs)

        functools.update_wrapper(wrapped, method)
        wrapped.motobox = True  # type: ignore[attr-defined]
        setattr(IAMBackend, name, wrapped)
