"""Runtimes AWS Lambda no longer accepts, by the dates AWS publishes (moto 5.2.5 accepts any).

Lambda ends a runtime in steps: deprecation, then "block function create" (CreateFunction, and
UpdateFunctionConfiguration setting that runtime, answer InvalidParameterValueException), then
"block function update" (no more code or configuration updates of a function on it). moto
accepts every runtime, and motobox runs a ``python3.7`` function on its own Python: a
quickstart whose function AWS has refused since 2024 read ``CREATE_COMPLETE``
(quickstart-aws-acm-certificate). The dates come from cfn-lint's table
(``cfnlint/data/AdditionalSpecs/LmbdRuntimeLifecycle.json``, the one its rule E2531 reads:
``create-block``, ``update-block``, ``successor`` per runtime), so a newer cfn-lint brings
newer dates and nothing here is written per runtime.

    refusal(runtime, "create" | "update", today) -> AWS's message, or None
    fix_runtime_lifecycle()     CreateFunction / UpdateFunctionConfiguration /
                                UpdateFunctionCode refuse as AWS does; a function made by
                                CloudFormation fails its resource with the same words

The words are Lambda's ("The runtime parameter of python3.7 is no longer supported for
creating or updating AWS Lambda functions. We recommend you use the new runtime (python3.12)
while creating or updating functions."); the runtime AWS names as the new one changes over the
years, cfn-lint's ``successor`` stands for it.
"""

from __future__ import annotations

import datetime
import functools
import importlib.util
import json
from pathlib import Path
from typing import Any


@functools.cache
def _table() -> dict[str, dict[str, Any]]:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        return {}
    root = Path(list(spec.submodule_search_locations)[0])
    path = root / "data" / "AdditionalSpecs" / "LmbdRuntimeLifecycle.json"
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def refusal(runtime: str | None, action: str, today: datetime.date | None = None) -> str | None:
    """Lambda's answer to ``action`` ("create" or "update") of a function on ``runtime`` on
    ``today`` (UTC) when AWS blocks it, else None."""
    entry = _table().get(str(runtime or ""))
    when = entry.get(f"{action}-block") if isinstance(entry, dict) else None
    if not when:
        return None
    day = today or datetime.datetime.now(datetime.UTC).date()
    try:
        if datetime.date.fromisoformat(str(when)) > day:
            return None
    except ValueError:
        return None
    successor = entry.get("successor") if isinstance(entry, dict) else None
    advice = f"the new runtime ({successor})" if successor else "a supported runtime"
    return (
        f"The runtime parameter of {runtime} is no longer supported for creating or updating "
        f"AWS Lambda functions. We recommend you use {advice} while creating or updating "
        "functions."
    )


def fix_runtime_lifecycle() -> None:
    """moto 5.2.5's ``LambdaBackend`` creates and updates functions on any runtime; here it
    refuses those AWS blocks (module docstring). Upstream: moto does not model runtime
    deprecation (searched 2026-11). Test:
    ``test_lambda_runtime_lifecycle.py::test_a_runtime_past_its_create_block_date_is_refused``.
    """
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.models import LambdaBackend

    if getattr(LambdaBackend.create_function, "motobox_original", None):
        return
    create_function = LambdaBackend.create_function
    update_configuration = LambdaBackend.update_function_configuration
    update_code = LambdaBackend.update_function_code

    def refuse(runtime: str | None, action: str) -> None:
        message = refusal(runtime, action)
        if message:
            raise InvalidParameterValueException(message)

    def create(self: Any, spec: dict[str, Any]) -> Any:
        refuse(spec.get("Runtime"), "create")
        return create_function(self, spec)

    def configure(self: Any, function_name: str, qualifier: str, body: dict[str, Any]) -> Any:
        if body.get("Runtime"):
            refuse(body["Runtime"], "create")
        else:
            refuse(self.get_function(function_name, qualifier).run_time, "update")
        return update_configuration(self, function_name, qualifier, body)

    def code(self: Any, function_name: str, qualifier: str, body: dict[str, Any]) -> Any:
        refuse(self.get_function(function_name, qualifier).run_time, "update")
        return update_code(self, function_name, qualifier, body)

    create.motobox_original = create_function  # type: ignore[attr-defined]
    configure.motobox_original = update_configuration  # type: ignore[attr-defined]
    code.motobox_original = update_code  # type: ignore[attr-defined]
    LambdaBackend.create_function = create  # type: ignore[method-assign]
    LambdaBackend.update_function_configuration = configure  # type: ignore[method-assign]
    LambdaBackend.update_function_code = code  # type: ignore[method-assign]


def fix_missing_code_object() -> None:
    """A function whose ``Code`` names an S3 object that does not exist is refused, as
    Lambda refuses it: "Error occurred while GetObject. S3 Error Code: NoSuchKey".

    moto 5.2.5 ``_validate_s3_bucket_and_key`` waits for ``MissingKey``, but
    ``S3Backend.get_object`` answers None for a missing key, so the function was made with
    no code (``CodeSize`` 0) and a stack built on a wrong ``QSS3KeyPrefix`` completed
    (quickstart-amazon-selling-partner-api-reports-notifications: seven functions whose jars
    taskcat had uploaded under another prefix). A missing bucket is refused already.
    Upstream: not reported to moto as of 5.2.5 (searched 2026-11).
    Test: ``test_lambda_runtime_lifecycle.py::test_code_from_a_missing_s3_object_is_refused``.
    """
    from moto.awslambda import models
    from moto.awslambda.exceptions import InvalidParameterValueException

    original = models._validate_s3_bucket_and_key
    if getattr(original, "motobox_original", None):
        return

    def validate(account_id: str, partition: str, data: dict[str, Any]) -> Any:
        key = original(account_id, partition, data)
        if key is None and models.do_validate_s3():
            raise InvalidParameterValueException(
                "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
                "The specified key does not exist."
            )
        return key

    validate.motobox_original = original  # type: ignore[attr-defined]
    models._validate_s3_bucket_and_key = validate
