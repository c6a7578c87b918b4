"""Execution environments: long-lived runtime processes, kept warm per function version.

    Pool (one per cloud, in ``CloudContext.extra``; closed when the cloud stops)
      take(key)      an idle worker of that function version and configuration, or None
      give(worker)   back to the idle list after an invocation that ended cleanly
      retire(worker) kill it (crash, timeout, init error, outdated configuration)
      spawn(...)     start a runtime process through ``CloudContext.popen`` (motobox's
                     supervisor; inside the sealed namespace of a sealed run)

    Worker (one runtime process, ``bootstrap.py`` or ``bootstrap.js``)
      send(request)         one invocation, a JSON line on its stdin
      read_frame(deadline)  the output it printed and its next control frame (see
                            ``bootstrap.py`` for the protocol), or None at the deadline

Workers are started from one thread that lives as long as the pool: the supervisor dies with
the thread that started it (``PR_SET_PDEATHSIG`` follows the parent *thread*), and the
gateway answers each connection in a thread of its own that ends with the connection.
A worker is killed with its whole process group (the supervisor starts a new session), so
whatever the function started goes with it, in either supervision mode.

Concurrency follows the program: an invocation that finds no idle worker starts one, so two
concurrent invocations run in two processes, and sequential ones reuse one.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motobox.emulation.lambdas.workspace import Workspace

if TYPE_CHECKING:
    from motobox.emulation.context import CloudContext

#: Output kept per invocation (the journal keeps 1 KB of it, CloudWatch Logs all of it).
OUTPUT_LIMIT = 4 * 1024 * 1024


class WorkerDied(Exception):
    """The runtime process ended; ``output`` is what it printed since the last frame."""

    def __init__(self, exit_code: int, output: bytes) -> None:
        super().__init__(f"exit status {exit_code}")
        self.exit_code = exit_code
        self.output = output


class Worker:
    def __init__(self, proc: subprocess.Popen[bytes], token: str, function: str, key: str) -> None:
        self.proc = proc
        self.token = token.encode()
        #: The function instance it runs, and the version and configuration (see ``Pool``).
        self.function = function
        self.key = key
        #: Set by the executor: CloudWatch Logs stream, the interpreter's name.
        self.about: dict[str, Any] = {}
        self.invocations = 0
        self._buffer = bytearray()
        assert proc.stdout is not None and proc.stdin is not None
        self._fd = proc.stdout.fileno()
        os.set_blocking(self._fd, False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, request: Mapping[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died: read_frame reports how

    def read_frame(
        self, deadline: float, on_output: Callable[[bytes], None] | None = None
    ) -> tuple[dict[str, Any] | None, bytes]:
        """The output before the next control frame and the frame, or (None, output so far)
        when ``deadline`` (``time.monotonic()``) passes; ``WorkerDied`` when it ends first.
        ``on_output`` gets the output as it comes (the function's live log)."""
        output = bytearray()
        token = self.token

        def keep(data: bytes | bytearray) -> None:
            _keep(output, data)
            if on_output is not None and data:
                on_output(bytes(data))

        while True:
            start = self._buffer.find(token)
            if start >= 0:
                end = self._buffer.find(b"\n", start)
                if end >= 0:
                    keep(self._buffer[:start])
                    frame = json.loads(bytes(self._buffer[start + len(token) + 1 : end]))
                    del self._buffer[: end + 1]
                    return frame, bytes(output)
            else:  # all but what could be the start of a token is output
                safe = len(self._buffer) - _token_start(self._buffer, token)
                if safe > 0:
                    keep(self._buffer[:safe])
                    del self._buffer[:safe]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                keep(self._buffer)
                self._buffer.clear()
                return None, bytes(output)
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if not ready:
                continue
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                keep(self._buffer)
                self._buffer.clear()
                raise WorkerDied(self._exit_code(), bytes(output))
            self._buffer += data

    def _exit_code(self) -> int:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        return 128 - code if code < 0 else code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()


def _token_start(buffer: bytes | bytearray, token: bytes) -> int:
    """How many bytes at the end of ``buffer`` could be the start of ``token`` (held back
    until more comes; the rest is output now, so the live log has it)."""
    for size in range(min(len(token) - 1, len(buffer)), 0, -1):
        if buffer.endswith(token[:size]):
            return size
    return 0


def _keep(output: bytearray, data: bytes | bytearray) -> None:
    room = OUTPUT_LIMIT - len(output)
    if room > 0:
        output += data[:room]


class Pool:
    """The execution environments of one cloud (see the module docstring)."""

    def __init__(self, cloud: CloudContext, workspace_dir: str | None = None) -> None:
        self.cloud = cloud
        self._dir = workspace_dir
        self._lock = threading.Lock()
        self._idle: dict[str, list[Worker]] = {}
        self._workers: set[Worker] = set()
        #: function instance -> the configuration key its newest invocation used
        self._current: dict[str, str] = {}
        self._workspace: Workspace | None = None
        self._spawns: queue.Queue[Any] = queue.Queue()
        self._spawner: threading.Thread | None = None
        self.closed = False

    def workspace(self, node_path: str) -> Workspace:
        with self._lock:
            if self._workspace is None:
                root = Path(tempfile.mkdtemp(prefix="motobox-lambda-", dir=self._dir))
                self._workspace = Workspace(root, node_path)
            return self._workspace

    def take(self, function: str, key: str) -> Worker | None:
        """An idle worker for ``key``; workers of an older configuration of ``function`` (an
        update of its code or settings) are retired, as Lambda does."""
        outdated: list[Worker] = []
        found = None
        with self._lock:
            previous = self._current.get(function)
            if previous is not None and previous != key:
                outdated = self._idle.pop(previous, [])
            self._current[function] = key
            idle = self._idle.get(key, [])
            while idle and found is None:
                worker = idle.pop()
                if worker.alive():
                    found = worker
                else:
                    outdated.append(worker)
        for worker in outdated:
            self.retire(worker)
        return found

    def give(self, worker: Worker) -> None:
        with self._lock:
            if not self.closed and self._current.get(worker.function) == worker.key:
                self._idle.setdefault(worker.key, []).append(worker)
                return
        self.retire(worker)

    def retire(self, worker: Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
        worker.kill()

    def spawn(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        *,
        token: str,
        function: str,
        key: str,
    ) -> Worker:
        with self._lock:
            if self.closed:
                raise RuntimeError("the cloud is stopping")
            if self._spawner is None:
                self._spawner = threading.Thread(
                    target=self._spawn_loop, name="motobox-lambda-spawner", daemon=True
                )
                self._spawner.start()
        done: Future[subprocess.Popen[bytes]] = Future()
        self._spawns.put((list(argv), dict(env), cwd, done))
        proc = done.result()
        worker = Worker(proc, token, function, key)
        with self._lock:
            closed = self.closed
            self._workers.add(worker)
        if closed:
            self.retire(worker)
            raise RuntimeError("the cloud is stopping")
        return worker

    def _spawn_loop(self) -> None:
        while True:
            item = self._spawns.get()
            if item is None:
                return
            argv, env, cwd, done = item
            try:
                proc = self.cloud.popen(
                    argv,
                    env,
                    cwd=str(cwd),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            except BaseException as exc:
                done.set_exception(exc)
            else:
                done.set_result(proc)

    def close(self) -> None:
        """Kill every worker and remove the workspace (the cloud stops)."""
        with self._lock:
            self.closed = True
            workers = list(self._workers)
            self._workers.clear()
            self._idle.clear()
            spawner, self._spawner = self._spawner, None
        for worker in workers:
            worker.kill()
        if spawner is not None:
            self._spawns.put(None)
            spawner.join(5)
        if self._workspace is not None:
            shutil.rmtree(self._workspace.root, ignore_errors=True)
