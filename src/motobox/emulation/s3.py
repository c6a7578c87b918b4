"""Fixes of moto's S3 (moto 5.2.5)."""

from __future__ import annotations

from typing import Any

from motobox.emulation.context import condition_values


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
        values = condition_values()
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
