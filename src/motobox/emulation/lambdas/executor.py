"""One invocation, from a moto ``LambdaFunction`` and a payload to a ``Result``.

    run(fn, payload, invocation_type)
      DryRun           -> 204, nothing runs
      Event            -> 202 at once; the invocation runs in a thread that carries the
                          request's context (``context.carried``)
      RequestResponse  -> the interpreter for fn's runtime (``runtimes.resolve``); none:
                          a function error at once, naming the runtime and what to do
                       -> a warm worker of this function version and configuration, or a new
                          one (``workers.Pool``) started with the environment below
                       -> the invocation, the output and the answer frame, within the
                          function's Timeout (a new worker gets Lambda's 10 s init phase
                          before it); a timeout or a crash retires the worker
                       -> a ``Result``, a ``"kind": "lambda"`` journal record, and the log
                          (START, output, END, REPORT lines) in moto's CloudWatch Logs under
                          /aws/lambda/NAME, one stream per worker as Lambda has one per
                          execution environment, each line written as the function prints
                          it (``_LiveLog``)

The function's environment: ``CloudContext.env(account, region)`` for the account of the
function's role (the cloud's endpoint, that account's keys, the run's CA and egress proxy),
Lambda's own variables (``AWS_LAMBDA_FUNCTION_NAME``, ``LAMBDA_TASK_ROOT``, ``_HANDLER``, ...),
then the function's ``Environment.Variables`` (which may not replace the reserved ones, as
Lambda refuses them).
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import secrets
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from motobox.emulation.context import CloudContext, RequestInfo, carried, current
from motobox.emulation.lambdas import runtimes
from motobox.emulation.lambdas.workers import Pool, Worker, WorkerDied
from motobox.emulation.lambdas.workspace import Workspace, node_layer_paths, python_layer_paths

HERE = Path(__file__).resolve().parent
#: Lambda's init phase may take this long before the invocation's own Timeout starts.
INIT_LIMIT_S = 10.0
#: The journal keeps this much of what the function printed.
JOURNAL_OUTPUT = 1024
#: ``X-Amz-Log-Type: Tail`` returns the last 4 KB of the log, as Lambda does.
TAIL = 4096
#: Variables Lambda sets and a function's configuration may not replace.
RESERVED = re.compile(
    r"_HANDLER|_X_AMZN_TRACE_ID|AWS_REGION|AWS_DEFAULT_REGION|AWS_EXECUTION_ENV|"
    r"AWS_LAMBDA_.*|AWS_ACCESS_KEY(_ID)?|AWS_SECRET_(ACCESS_)?KEY|AWS_SESSION_TOKEN|"
    r"LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR"
)
#: Python settings of motobox's own environment that would hand a function motobox's
#: packages (moto among them) or change how its interpreter starts.
PYTHON_SETTINGS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONSAFEPATH")

_pools_lock = threading.Lock()
_logs_lock = threading.Lock()


@dataclass
class Result:
    """What an invocation answered, as ``lambda:Invoke`` would."""

    #: 200 (RequestResponse, function errors included), 202 (Event), 204 (DryRun).
    status_code: int
    #: The handler's result as JSON, or Lambda's error document when ``function_error``.
    payload: bytes
    #: ``"Unhandled"`` when the function failed (``X-Amz-Function-Error``), else None.
    function_error: str | None
    #: The end of the invocation's log (START ... REPORT), at most 4 KB.
    log_tail: str
    request_id: str
    duration_ms: float
    #: ok, error, timeout, crash, unavailable (no interpreter here), queued (Event),
    #: dry-run.
    status: str = "ok"

    @property
    def error(self) -> dict[str, Any] | None:
        """The error document (``errorMessage``, ``errorType``, ...) of a failed invocation."""
        if not self.function_error:
            return None
        try:
            document = json.loads(self.payload)
        except ValueError:
            return {"errorMessage": self.payload.decode("utf-8", "replace")}
        return document if isinstance(document, dict) else {"errorMessage": str(document)}


def pool_for(cloud: CloudContext) -> Pool:
    """The cloud's execution environments, made on first use and closed with the cloud."""
    with _pools_lock:
        pool = cloud.extra.get("lambda_pool")
        if pool is None:
            from motobox.cloud import state_root

            pool = cloud.extra["lambda_pool"] = Pool(cloud, state_root())
            cloud.on_close(pool.close)
        return pool


def run(
    fn: Any,
    payload: bytes,
    invocation_type: str = "RequestResponse",
    *,
    invoked_arn: str = "",
    on_done: Callable[[Result], None] | None = None,
) -> Result:
    """Invoke the moto function ``fn`` with ``payload`` (JSON) in the cloud of this thread's
    request (``context.current()``). ``on_done`` gets an Event invocation's ``Result`` when
    it has ended in the background (not when it fails at once: that is the answer)."""
    request_id = str(uuid.uuid4())
    if invocation_type == "DryRun":
        return Result(204, b"", None, "", request_id, 0.0, "dry-run")
    info = current()
    if invocation_type == "Event":
        if info.cloud is None or _lacks_runtime(info, fn):
            # Nothing can run: say so now (journaled), so a caller waiting for an answer (a
            # custom resource) fails at once instead of waiting out the function's timeout.
            failed = _execute(info, fn, payload, request_id, "Event", invoked_arn)
            failed.status_code = 202
            return failed
        thread = threading.Thread(
            target=_in_background,
            args=(info, fn, payload, request_id, invoked_arn, on_done),
            name=f"motobox-lambda-event-{request_id[:8]}",
            daemon=True,
        )
        thread.start()
        return Result(202, b"", None, "", request_id, 0.0, "queued")
    return _execute(info, fn, payload, request_id, invocation_type, invoked_arn)


def _lacks_runtime(info: RequestInfo, fn: Any) -> bool:
    """No interpreter here for ``fn`` (the function's PATH is motobox's own)."""
    path = os.environ.get("PATH", os.defpath)
    found = runtimes.resolve(fn.run_time, fn.package_type, fn.function_name, path)
    return isinstance(found, runtimes.Unavailable)


def _in_background(
    info: RequestInfo,
    fn: Any,
    payload: bytes,
    request_id: str,
    invoked_arn: str,
    on_done: Callable[[Result], None] | None = None,
) -> None:
    with carried(info):
        result = _execute(info, fn, payload, request_id, "Event", invoked_arn)
    if on_done is not None:
        on_done(result)


@dataclass
class _Outcome:
    status: str
    payload: bytes
    output: bytes = b""
    error_type: str | None = None
    extra_log: str = ""
    init_ms: float | None = None
    max_rss_kb: int = 0
    #: A new worker started for this invocation.
    cold: bool = False


def _execute(
    info: RequestInfo,
    fn: Any,
    payload: bytes,
    request_id: str,
    invocation_type: str,
    invoked_arn: str,
) -> Result:
    cloud = info.cloud
    started = time.monotonic()
    account = _role_account(fn)
    worker: Worker | None = None
    interpreter_name = None
    live = _LiveLog(fn, request_id)
    if cloud is None:
        outcome = _unavailable(
            f"function {fn.function_name} was invoked outside a motobox cloud (no request "
            "context in this thread); motobox runs functions only for calls its cloud answers"
        )
    else:
        try:
            base_env = cloud.env(account, fn.region)
            found = runtimes.resolve(
                fn.run_time, fn.package_type, fn.function_name, base_env.get("PATH", os.defpath)
            )
            if isinstance(found, runtimes.Unavailable):
                outcome = _unavailable(found.reason)
            else:
                interpreter_name = found.name
                worker, outcome, started = _invoke(
                    pool_for(cloud),
                    fn,
                    found,
                    base_env,
                    payload,
                    request_id,
                    invoked_arn,
                    started,
                    live,
                )
        except Exception as exc:  # motobox's own failure: an answer, never a hang
            message = f"motobox failed to run function {fn.function_name}: {exc!r}"
            outcome = _Outcome(
                "crash",
                _error_doc("Motobox.InternalError", message),
                error_type="Motobox.InternalError",
                extra_log=message,
            )
    duration_ms = (time.monotonic() - started) * 1000
    log = _log_lines(fn, request_id, outcome, duration_ms)
    if live.stream is not None:  # START and the output are there already
        live.finish(_log_end(fn, request_id, outcome, duration_ms))
    else:
        _write_logs(fn, _stream_name(fn), log)
    output = outcome.output.decode("utf-8", "replace")
    if cloud is not None:
        cloud.journal.append(
            {
                "kind": "lambda",
                "function": fn.function_name,
                "version": str(fn.version),
                "request_id": request_id,
                "invocation_type": invocation_type,
                "account": fn.account_id,
                "region": fn.region,
                "runtime": fn.run_time,
                "interpreter": interpreter_name,
                "status": outcome.status,
                "error": outcome.error_type,
                "ms": round(duration_ms, 2),
                "cold": outcome.cold,
                "init_ms": None if outcome.init_ms is None else round(outcome.init_ms, 2),
                "pid": worker.pid if worker else None,
                "output": output[:JOURNAL_OUTPUT],
            }
        )
    text = "\n".join(log) + "\n"
    tail = text.encode()[-TAIL:].decode("utf-8", "ignore")
    failed = outcome.status != "ok"
    return Result(
        200,
        outcome.payload,
        "Unhandled" if failed else None,
        tail,
        request_id,
        duration_ms,
        outcome.status,
    )


def _invoke(
    pool: Pool,
    fn: Any,
    interpreter: runtimes.Interpreter,
    base_env: dict[str, str],
    payload: bytes,
    request_id: str,
    invoked_arn: str,
    started: float,
    live: _LiveLog,
) -> tuple[Worker | None, _Outcome, float]:
    """Run one invocation in a warm or new worker; the worker (None when none started), the
    outcome, and when the invocation proper started (after a new worker's init). What the
    function prints reaches its log as it prints it (``live``)."""
    identity, key = _keys(fn, interpreter)
    worker = pool.take(identity, key)
    outcome = _Outcome("ok", b"", cold=worker is None)
    if worker is None:
        try:
            worker = _start(pool, fn, interpreter, base_env, identity, key)
        except _CodeProblem as exc:
            message = str(exc)
            failed = _Outcome("error", _error_doc("Runtime.InvalidCode", message), cold=True)
            failed.error_type, failed.extra_log = "Runtime.InvalidCode", message
            return None, failed, started
        except RuntimeError as exc:  # the cloud is stopping
            return None, _unavailable(str(exc)), started
    timeout = float(fn.timeout or 3)
    live.start(str(worker.about.get("stream") or _stream_name(fn)))
    worker.send(
        {
            "id": request_id,
            "event": payload.decode("utf-8", "replace"),
            "arn": invoked_arn or fn.function_arn,
            "timeout_ms": int(timeout * 1000),
        }
    )
    output = bytearray()
    try:
        deadline = time.monotonic() + INIT_LIMIT_S + timeout if outcome.cold else started + timeout
        frame, printed = worker.read_frame(deadline, live.feed)
        output += printed
        if frame is not None and frame["type"] == "ready":  # a new worker's init is done
            outcome.init_ms = float(frame.get("init_ms") or 0.0)
            started = time.monotonic()
            frame, printed = worker.read_frame(started + timeout, live.feed)
            output += printed
    except WorkerDied as died:
        pool.retire(worker)
        output += died.output
        outcome.output = bytes(output)
        return worker, _crashed(outcome, request_id, died.exit_code), started
    outcome.output = bytes(output)
    if frame is None:
        pool.retire(worker)
        return worker, _timed_out(outcome, request_id, timeout), started
    worker.invocations += 1
    outcome.max_rss_kb = int(frame.get("max_rss_kb") or 0)
    if frame["type"] == "result":
        outcome.payload = frame["payload"].encode()
        pool.give(worker)
        return worker, outcome, started
    # "error", or "init_error": the module did not import, and that process then exits
    error = frame.get("error") or {}
    if frame["type"] == "init_error" and interpreter.language == "node":
        error = _missing_node_sdk(error, pool.workspace(""))
    outcome.status, outcome.error_type = "error", error.get("errorType")
    outcome.payload = json.dumps(error).encode()
    outcome.extra_log = _error_line(error)
    if frame["type"] == "init_error":
        pool.retire(worker)
    else:
        pool.give(worker)
    return worker, outcome, started


def _missing_node_sdk(error: dict[str, Any], workspace: Workspace) -> dict[str, Any]:
    """A Node.js function that cannot load ``@aws-sdk/*`` would load it on Lambda, whose
    runtime ships the SDK: when motobox found none to give it, its error says how to."""
    message = str(error.get("errorMessage") or "")
    if workspace.node_sdk is not None or not re.search(
        r"Cannot find (module|package) '@aws-sdk/", message
    ):
        return error
    hint = (
        " (motobox: Lambda's Node.js runtime ships the AWS SDK for JavaScript v3; motobox gives "
        "functions the one in the first NODE_PATH folder holding @aws-sdk, else in the nearest "
        "node_modules/@aws-sdk above the folder motobox started in, and found none: install "
        "it there, e.g. npm install @aws-sdk/client-s3)"
    )
    return {**error, "errorMessage": message + hint}


class _CodeProblem(Exception):
    pass


def _start(
    pool: Pool,
    fn: Any,
    interpreter: runtimes.Interpreter,
    base_env: dict[str, str],
    identity: str,
    key: str,
) -> Worker:
    """A new worker for ``fn`` (its code and layers extracted, its environment built)."""
    code = getattr(fn, "code_bytes", b"")
    if not code:
        raise _CodeProblem(f"function {fn.function_name} has no code (its zip is empty or gone)")
    workspace = pool.workspace(base_env.get("NODE_PATH", ""))
    try:
        task = workspace.function(code, interpreter.language)
        layers = [workspace.layer(data) for data in _layer_zips(fn)]
    except Exception as exc:  # a broken zip
        raise _CodeProblem(f"the code of function {fn.function_name} is not a zip: {exc}") from None
    stream = _stream_name(fn)
    env = {k: v for k, v in base_env.items() if k not in PYTHON_SETTINGS}
    for name, value in (fn.environment_vars or {}).items():
        if not RESERVED.fullmatch(name):
            env[name] = str(value)
    env.update(
        {
            "_HANDLER": str(fn.handler or ""),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "LAMBDA_TASK_ROOT": str(task),
            "LAMBDA_RUNTIME_DIR": str(HERE),
            "TZ": ":UTC",
        }
    )
    token = f"@motobox-{secrets.token_hex(8)}@"
    newest_first = list(reversed(layers))  # on Lambda a later layer's files win
    if interpreter.language == "python":
        paths = [
            p for layer in newest_first for p in python_layer_paths(layer, interpreter.version)
        ]
        env["MOTOBOX_LAMBDA_PYTHONPATH"] = os.pathsep.join([*paths, str(workspace.python_sdk)])
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # never into motobox's own site-packages
        argv = [interpreter.executable, "-S", "-u", str(HERE / "bootstrap.py"), token]
    else:
        workspace.find_node_sdk()
        paths = [p for layer in newest_first for p in node_layer_paths(layer, interpreter.version)]
        inherited = [p for p in base_env.get("NODE_PATH", "").split(os.pathsep) if p]
        env["NODE_PATH"] = os.pathsep.join(
            [*paths, str(workspace.node_modules), *inherited, str(task)]
        )
        argv = [interpreter.executable, str(HERE / "bootstrap.js"), token]
    worker = pool.spawn(argv, env, task, token=token, function=identity, key=key)
    worker.about.update(stream=stream, interpreter=interpreter.name)
    return worker


def _keys(fn: Any, interpreter: runtimes.Interpreter) -> tuple[str, str]:
    """Which function version this is (the moto object, its ARN) and which configuration:
    a new worker is needed when either changes, as Lambda starts new environments after
    UpdateFunctionCode or UpdateFunctionConfiguration."""
    uid = fn.__dict__.setdefault("_motobox_uid", uuid.uuid4().hex)
    identity = f"{uid}|{fn.function_arn}"
    config = json.dumps(
        [
            getattr(fn, "code_sha_256", ""),
            fn.handler,
            fn.run_time,
            fn.environment_vars,
            fn.timeout,
            fn.memory_size,
            [layer.get("Arn") for layer in fn.layers or []],
            fn.role,
            interpreter.executable,
        ],
        sort_keys=True,
        default=str,
    )
    return identity, f"{identity}|{config}"


def _layer_zips(fn: Any) -> list[bytes]:
    from moto.awslambda.utils import get_backend

    zips = []
    for layer in fn.layers or []:
        arn = layer["Arn"]
        parts = arn.split(":")  # arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION
        found = get_backend(parts[4], parts[3]).layers_versions_by_arn(arn)
        code = getattr(found, "code_bytes", None)
        if code:
            zips.append(code)
    return zips


def _role_account(fn: Any) -> str:
    match = re.match(r"arn:[^:]+:iam::(\d{12}):", str(fn.role or ""))
    return match.group(1) if match else str(fn.account_id)


def _stream_name(fn: Any) -> str:
    today = datetime.now(UTC)
    return f"{today:%Y/%m/%d}/[{fn.version}]{uuid.uuid4().hex}"


def _error_doc(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def _unavailable(reason: str) -> _Outcome:
    return _Outcome(
        "unavailable",
        _error_doc("Motobox.RuntimeUnavailable", reason),
        error_type="Motobox.RuntimeUnavailable",
        extra_log=reason,
    )


def _timed_out(outcome: _Outcome, request_id: str, timeout: float) -> _Outcome:
    """Lambda's answer when the Timeout passed (the worker is killed)."""
    message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    outcome.status, outcome.error_type = "timeout", "Sandbox.Timedout"
    outcome.payload = _error_doc("Sandbox.Timedout", message)
    outcome.extra_log = f"{stamp}Z {request_id} Task timed out after {timeout:.2f} seconds"
    return outcome


def _crashed(outcome: _Outcome, request_id: str, exit_code: int) -> _Outcome:
    """Lambda's answer when the runtime process died during the invocation."""
    if exit_code > 128:
        reason = f"signal: {(signal.strsignal(exit_code - 128) or str(exit_code - 128)).lower()}"
    else:
        reason = f"exit status {exit_code}"
    message = f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
    outcome.status, outcome.error_type = "crash", "Runtime.ExitError"
    outcome.payload = _error_doc("Runtime.ExitError", message)
    outcome.extra_log = message
    return outcome


def _error_line(error: dict[str, Any]) -> str:
    """What Lambda's runtimes log for an error the handler did not catch."""
    trace = error.get("stackTrace") or error.get("trace") or []
    lines = [f"[ERROR] {error.get('errorType')}: {error.get('errorMessage')}"]
    lines += [str(line).rstrip("\n") for line in trace]
    return "\n".join(lines)


def _log_lines(fn: Any, request_id: str, outcome: _Outcome, duration_ms: float) -> list[str]:
    lines = [_log_start(fn, request_id)]
    lines += outcome.output.decode("utf-8", "replace").splitlines()
    return lines + _log_end(fn, request_id, outcome, duration_ms)


def _log_start(fn: Any, request_id: str) -> str:
    return f"START RequestId: {request_id} Version: {fn.version}"


def _log_end(fn: Any, request_id: str, outcome: _Outcome, duration_ms: float) -> list[str]:
    """The lines after the function's output: the runtime's error line, END, REPORT."""
    lines = []
    if outcome.extra_log:
        lines.append(outcome.extra_log)
    lines.append(f"END RequestId: {request_id}")
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {fn.memory_size} MB\t"
        f"Max Memory Used: {outcome.max_rss_kb // 1024} MB"
    )
    if outcome.init_ms is not None:
        report += f"\tInit Duration: {outcome.init_ms:.2f} ms"
    lines.append(report)
    return lines


class _LiveLog:
    """An invocation's log as Lambda streams it to CloudWatch Logs: START when it starts, each
    line of output once it is complete, the rest with END and REPORT when it ends. A function
    may read its own lines while it runs (quickstart-aws-acm-certificate's waits for one
    before it answers a Delete)."""

    def __init__(self, fn: Any, request_id: str) -> None:
        self.fn, self.request_id = fn, request_id
        self.stream: str | None = None
        self._partial = b""

    def start(self, stream: str) -> None:
        self.stream = stream
        _write_logs(self.fn, stream, [_log_start(self.fn, self.request_id)])

    def feed(self, data: bytes) -> None:
        if self.stream is None:
            return
        *complete, self._partial = (self._partial + data).split(b"\n")
        if complete:
            lines = [line.rstrip(b"\r").decode("utf-8", "replace") for line in complete]
            _write_logs(self.fn, self.stream, lines)

    def finish(self, lines: list[str]) -> None:
        assert self.stream is not None
        rest = [self._partial.decode("utf-8", "replace")] if self._partial else []
        self._partial = b""
        _write_logs(self.fn, self.stream, rest + lines)


def _write_logs(fn: Any, stream: str, lines: list[str]) -> None:
    """The invocation's log into moto's CloudWatch Logs (never fails the invocation)."""
    from moto.logs.models import logs_backends

    group = f"/aws/lambda/{fn.function_name}"
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines]
    try:
        with _logs_lock:
            backend = logs_backends[fn.account_id][fn.region]
            backend.ensure_log_group(group)
            backend.ensure_log_stream(group, stream)
            backend.put_log_events(group, stream, events)
    except Exception:  # logs are a courtesy: the invocation's answer stands
        pass


def tail_header(result: Result) -> str:
    """``X-Amz-Log-Result``: the log tail, base64."""
    return base64.b64encode(result.log_tail.encode()).decode()
