"""motobox's Lambda runtime for Python: one execution environment that answers invocations.

Run as ``python -S -u bootstrap.py TOKEN`` by ``workers.py`` (``-S``: none of the
interpreter's site-packages, so a function finds its own code, its layers and boto3, never
moto). Standard library only, and Python 3.8 syntax: the interpreter may be any python3.X.

    stdin   one JSON line per invocation: {"id", "event" (the payload, as text), "arn",
            "timeout_ms"}
    stdout  what the function prints (stderr is the same pipe) and, between that output,
            control frames: TOKEN, a space, one JSON object, a newline:
              {"type": "ready", "init_ms"}            once the handler's module is imported
              {"type": "init_error", "error"}         the import failed; the process then exits
              {"type": "result", "payload", "max_rss_kb"}
              {"type": "error", "error", "max_rss_kb"}
            ``error`` is what Lambda returns: {"errorMessage", "errorType", "stackTrace"}.

One pipe for output and frames keeps their order: a frame is written after the function's
output is flushed, so the output before it belongs to that invocation.

Environment (set by ``workers.py``): LAMBDA_TASK_ROOT, _HANDLER, MOTOBOX_LAMBDA_PYTHONPATH (the
layers' folders, then the SDK folder), and Lambda's AWS_LAMBDA_* variables.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback


class LambdaContext:
    """The ``context`` argument, with the attributes of Lambda's Python runtime client."""

    def __init__(self, request: dict) -> None:
        env = os.environ
        self.aws_request_id = request["id"]
        self.invoked_function_arn = request["arn"]
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = time.time() * 1000 + request["timeout_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._deadline_ms - time.time() * 1000), 0)


class _RequestId(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _send(token: bytes, frame: dict) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    data = token + b" " + json.dumps(frame).encode() + b"\n"
    while data:
        data = data[os.write(1, data) :]


def _error(exc: BaseException, error_type: str | None = None, message: str | None = None) -> dict:
    # Lambda shows the function's frames, not its runtime's (nor importlib's).
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename != __file__ and not frame.filename.startswith("<frozen importlib")
    ]
    return {
        "errorMessage": str(exc) if message is None else message,
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(frames),
    }


def _load(handler: str) -> object:
    """The handler function (Lambda's Python runtime's messages on failure)."""
    module_name, _, function_name = handler.rpartition(".")
    module_name = module_name.replace("/", ".")
    if not module_name:
        raise _InitError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
        )
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        raise _InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from exc
    except ImportError as exc:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    function = getattr(module, function_name, None)
    if function is None:
        raise _InitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return function


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _max_rss_kb() -> int:
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except Exception:
        return 0


def main() -> None:
    token = sys.argv[1].encode()
    del sys.argv[1:]
    control = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    # sys.path as Lambda's: the task root, the layers, the standard library, then the SDK
    # (the script's own folder, motobox's package, is never on it).
    extra = [p for p in os.environ.get("MOTOBOX_LAMBDA_PYTHONPATH", "").split(os.pathsep) if p]
    sdk = extra.pop() if extra else None
    sys.path[0:1] = [os.environ["LAMBDA_TASK_ROOT"], *extra]
    if sdk:
        sys.path.append(sdk)
    os.chdir(os.environ["LAMBDA_TASK_ROOT"])

    request_filter = _RequestId()
    handler_out = logging.StreamHandler(sys.stdout)
    handler_out.addFilter(request_filter)
    handler_out.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler_out.formatter.converter = time.gmtime  # type: ignore[union-attr]
    logging.getLogger().addHandler(handler_out)

    started = time.monotonic()
    try:
        function = _load(os.environ["_HANDLER"])
    except _InitError as exc:
        _send(token, {"type": "init_error", "error": _error(exc, exc.error_type)})
        return
    except BaseException as exc:  # the module raised while it was imported
        _send(token, {"type": "init_error", "error": _error(exc)})
        return
    _send(token, {"type": "ready", "init_ms": (time.monotonic() - started) * 1000})

    for line in control:
        request = json.loads(line)
        request_filter.request_id = request["id"]
        frame: dict[str, object]
        context = LambdaContext(request)
        os.environ["AWS_LAMBDA_REQUEST_ID"] = request["id"]
        try:
            event = json.loads(request["event"])
            result = function(event, context)  # type: ignore[operator]
        except Exception as exc:
            # SystemExit is not caught: as on Lambda, the process ends (Runtime.ExitError).
            frame = {"type": "error", "error": _error(exc)}
        else:
            try:
                frame = {"type": "result", "payload": json.dumps(result)}
            except (TypeError, ValueError) as exc:
                message = f"Unable to marshal response: {exc}"
                frame = {"type": "error", "error": _error(exc, "Runtime.MarshalError", message)}
        frame["max_rss_kb"] = _max_rss_kb()
        _send(token, frame)


if __name__ == "__main__":
    main()
