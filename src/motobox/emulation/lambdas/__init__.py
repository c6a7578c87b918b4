"""Lambda without Docker: functions run on this machine's Python and Node.js, kept warm.

moto stays the store of functions, versions, aliases, layers and event source mappings; only
execution is motobox's. How an invocation flows:

    lambda:Invoke / a trigger moto wires (SQS mapping, S3 or SNS notification, ...)
      -> moto_hook.invoke        moto's ``LambdaFunction.invoke``, replaced (``FIXES["lambda"]``)
      -> executor.run            DryRun, Event (a background thread) or RequestResponse
      -> runtimes.resolve        python3.X / nodejs*: which interpreter; others: a reason
      -> workers.Pool            a warm worker of that function version, or a new one
                                 started under motobox's supervisor (sealed with the run)
      -> workspace.Workspace     its code and layers extracted once per cloud, beside
                                 boto3 and the host's Node SDK
      -> bootstrap.py / .js      the runtime inside the worker: imports the handler once,
                                 answers invocations one by one
      -> Result, a journal record ("kind": "lambda"), CloudWatch Logs /aws/lambda/NAME

Public API, for other emulators (the CloudFormation engine's custom resources)::

    from motobox.emulation.lambdas import invoke, Result, FunctionNotFound

    result = invoke(account, region, "my-function" or its ARN, b'{"RequestType": "Create"}',
                    invocation_type="RequestResponse", qualifier=None, on_done=None)
    result.status_code      200 (RequestResponse), 202 (Event), 204 (DryRun)
    result.payload          bytes: the handler's result as JSON, or the error document
    result.function_error   "Unhandled" when the function failed, else None
    result.error            the error document as a dict ({"errorType", "errorMessage", ...})
    result.status           ok, error, timeout, crash, unavailable, queued, dry-run
    result.log_tail         the last 4 KB of the invocation's log
    result.request_id, result.duration_ms

``on_done(result)`` is called when an Event invocation has run (from its thread): how a caller
that waits for something else (a custom resource's answer) learns that none can come.

``invoke`` must run in a thread that has the request's context: the gateway's thread, or
a thread of yours entered with ``with context.carried(info):`` where ``info`` is the
``context.current()`` of the request that started the work. Without one, the result is
``status="unavailable"`` (a function cannot reach a cloud it does not know). It raises
``FunctionNotFound`` for a name moto does not know; every other failure is a result: a
runtime this machine lacks is ``status="unavailable"`` at once, with ``errorType``
``Motobox.RuntimeUnavailable`` and a message naming the runtime and what to do; a timeout is
``Sandbox.Timedout`` with "Task timed out after N.NN seconds". A RequestResponse invocation
returns when the function has answered (at most its Timeout, plus 10 s for a new worker's
init), so a caller waiting for a custom resource's answer knows when to give up; an Event
invocation calls ``on_done(result)`` when it has ended in the background, so such a caller
knows at once that no answer can come any more.

Inline code: Python functions ``import cfnresponse`` (moto zips AWS's module beside inline
code); Node.js functions ``require("cfn-response")`` (``cfn_response.js``: AWS's behaviour,
using the ResponseURL's own scheme and port). Both ignore ``HTTPS_PROXY``, as AWS's do: point
``ResponseURL`` at the cloud itself (``CloudContext.endpoint_url``).

What a function sees: its code as ``LAMBDA_TASK_ROOT`` (the working directory), its layers'
``python/`` and ``nodejs/node_modules`` folders on the path, boto3 (linked from motobox's
interpreter; moto never), the Node SDK when ``NODE_PATH`` (in motobox's environment) names a
folder holding ``@aws-sdk``, Lambda's variables, its own ``Environment``, and ``AWS_*``
variables for the cloud in its role's account.
"""

from __future__ import annotations

from collections.abc import Callable

from motobox.emulation.lambdas.executor import Result
from motobox.emulation.lambdas.lifecycle import fix_missing_code_object, fix_runtime_lifecycle
from motobox.emulation.lambdas.moto_hook import fix_lambda_execution

__all__ = [
    "FunctionNotFound",
    "Result",
    "fix_lambda_execution",
    "fix_missing_code_object",
    "fix_runtime_lifecycle",
    "invoke",
]


class FunctionNotFound(LookupError):
    """moto has no function by that name, ARN or qualifier."""


def invoke(
    account: str,
    region: str,
    function_name_or_arn: str,
    payload: bytes,
    *,
    invocation_type: str = "RequestResponse",
    qualifier: str | None = None,
    on_done: Callable[[Result], None] | None = None,
) -> Result:
    """Invoke a function of moto's ``account``/``region`` (see the module docstring)."""
    from moto.awslambda.utils import get_backend

    from motobox.emulation.lambdas import executor

    try:
        fn = get_backend(account, region).get_function(function_name_or_arn, qualifier)
    except Exception as exc:  # moto's UnknownFunctionException and its kin
        raise FunctionNotFound(
            f"no Lambda function {function_name_or_arn!r}"
            f"{f' (qualifier {qualifier})' if qualifier else ''} in account {account}, "
            f"region {region}: {getattr(exc, 'message', exc)}"
        ) from None
    return executor.run(fn, payload or b"{}", invocation_type, on_done=on_done)
