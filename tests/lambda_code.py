"""Helpers for the Lambda tests: zips, a role, a function, and its journal records."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

from motobox import Cloud


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def role(cloud: Cloud, **client: Any) -> str:
    iam = cloud.client("iam", **client)
    try:
        return str(iam.get_role(RoleName="fn-role")["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        created = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")
        return str(created["Role"]["Arn"])


def create(
    cloud: Cloud,
    name: str,
    files: dict[str, str],
    *,
    runtime: str = "python3.11",
    handler: str = "index.handler",
    timeout: int = 10,
    env: dict[str, str] | None = None,
    **client: Any,
) -> str:
    """A function of ``files``; its ARN."""
    spec: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": runtime,
        "Role": role(cloud, **client),
        "Handler": handler,
        "Code": {"ZipFile": zipped(files)},
        "Timeout": timeout,
    }
    if env:
        spec["Environment"] = {"Variables": env}
    return str(cloud.client("lambda", **client).create_function(**spec)["FunctionArn"])


def invoke(
    cloud: Cloud,
    name: str,
    event: Any = None,
    *,
    client: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """``lambda:Invoke`` through boto3 (``client``: options of the client, e.g. another
    account's keys); the answer with ``Payload`` read and parsed."""
    answer = cloud.client("lambda", **(client or {})).invoke(
        FunctionName=name, Payload=json.dumps(event or {}), **kwargs
    )
    raw = answer["Payload"].read()
    try:
        answer["Payload"] = json.loads(raw) if raw else None
    except ValueError:
        raise AssertionError(f"the payload is not JSON: {raw[:300]!r}") from None
    return dict(answer)


def runs(cloud: Cloud, name: str) -> list[dict[str, Any]]:
    """The journal's ``"kind": "lambda"`` records of function ``name``."""
    return [r for r in cloud.journal.records if r["kind"] == "lambda" and r["function"] == name]


def wait_for(found: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    """Poll until ``found()`` is truthy (for asynchronous invocations); never a timing check."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds} s")
