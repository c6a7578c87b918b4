"""A stand-in for the Docker Engine API: programs that ask whether Docker is there get an
answer, and a build gets a one-line refusal instead of a connection error.

Why: taskcat's default ``package_lambda: true`` builds ``LambdaBuild``, whose ``__init__``
calls ``docker.from_env()`` (taskcat/_lambda_build.py, 0.9.58); docker-py then asks the engine
for its API version and raises ``DockerException`` when nothing answers, so a project without
any Lambda source dies on a machine without Docker (DESIGN.md). Docker is used only for a
source folder that holds a Dockerfile; other folders are zipped on the host (after
``pip install -r requirements.txt -t``, whose package index the egress control denies unless
the user points pip at a wheelhouse: README, "Lambda sources").

    program (docker-py, docker CLI)                 motobox
    ------------------------------                  -------
    DOCKER_HOST=unix://STATE/docker.sock  ------>   DockerStandIn (werkzeug, Unix socket)
    GET /version, GET|HEAD /_ping         <------   the engine's answer (API 1.45, "motobox")
    POST /v1.45/build?t=IMAGE (any other) <------   501 {"message": "motobox: ...; what to do"}
                                                    every call journaled: {"kind": "docker"}

What docker-py 7.x asks (docker/api/client.py, 7.2.0 in taskcat's venv): ``from_env()`` ->
``APIClient(version=None)`` -> ``GET /version`` (unversioned) and reads ``ApiVersion``; nothing
else until a build. The docker CLI pings first (``HEAD``/``GET /_ping``) and picks the legacy
builder when the engine says ``Builder-Version: 1`` (BuildKit would need the buildx plugin
before any request is made). A refusal is an HTTP error with Docker's JSON error body, which
docker-py raises as ``APIError`` with the message in it (taskcat prints it on its ``[ERROR ]``
line) and the CLI prints as ``Error response from daemon: ...``. The request body (a build
context can be large) is read to its end before answering: a socket closed with unread data
sends a reset, which the client would report instead of the message.

``DOCKER_HOST`` is set by ``environment.build_program_env`` only when the user's environment
names no engine (``DOCKER_HOST`` or ``DOCKER_CONTEXT``): a user with a real engine who sets
``DOCKER_HOST`` keeps it, and builds then run there, outside motobox's egress control.

Served by werkzeug's threaded server (moto's own server, already imported with moto), which
binds Unix sockets and decodes chunked request bodies (the docker CLI streams the build context
that way); ``transport``'s server listens on TCP only. A socket path is limited to 107 bytes
(``sun_path``): a state folder deeper than that gets the socket in a short folder of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from motobox import __version__
from motobox.journal import Journal

#: What the stand-in says it speaks: docker-py 7's default, and the CLI negotiates down to it.
API_VERSION = "1.45"
MIN_API_VERSION = "1.24"
#: ``sun_path`` holds 108 bytes with the terminating NUL.
MAX_SOCKET_PATH = 107
#: How to use a real engine, said in every refusal.
USE_AN_ENGINE = (
    "start motobox with DOCKER_HOST pointing at a Docker engine "
    "(e.g. DOCKER_HOST=unix:///var/run/docker.sock motobox run ...)"
)

StartResponse = Callable[..., Any]


def _api_path(path: str) -> str:
    """``/v1.45/build`` -> ``/build``: the version prefix is optional in Docker's API."""
    head, sep, rest = path.lstrip("/").partition("/")
    if head.startswith("v") and head[1:].replace(".", "").isdigit():
        return "/" + rest if sep else "/"
    return path


def refusal(method: str, path: str, query: dict[str, list[str]]) -> str:
    """The one line a client gets for anything but the version check: what was asked, why it
    cannot be done here, and what to do."""
    api = _api_path(path)
    if api == "/build":
        image = (query.get("t") or [""])[0]
        if image.startswith("taskcat-build-"):
            return (
                f"motobox: taskcat's docker build of {image} (a Lambda source folder that holds "
                "a Dockerfile) needs a Docker engine and this run has none; "
                f"{USE_AN_ENGINE}, or package that folder beforehand and run with "
                "TASKCAT_PROJECT_PACKAGE_LAMBDA=false"
            )
        what = f"docker build of {image}" if image else "docker build"
        return f"motobox: {what} needs a Docker engine and this run has none; {USE_AN_ENGINE}"
    return (
        f"motobox: {method} {api} needs a Docker engine and this run has none "
        f"(motobox answers only Docker's version check); {USE_AN_ENGINE}"
    )


def _drain(environ: dict[str, Any]) -> None:
    """Read the request body to its end (``Content-Length`` or chunked; none for a GET)."""
    from werkzeug.wsgi import get_input_stream

    stream = get_input_stream(environ, safe_fallback=True)
    with contextlib.suppress(OSError, ValueError):
        while stream.read(1 << 16):
            pass


class DockerAPI:
    """The WSGI app: ``/_ping`` and ``/version`` answered, everything else refused; each call
    journaled as ``{"kind": "docker", "method", "path", "status", "action", "error"}``."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        _drain(environ)
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        api = _api_path(path)
        headers = [
            ("Api-Version", API_VERSION),
            ("Docker-Experimental", "false"),
            ("Ostype", "linux"),
        ]
        error = None
        if api == "/_ping" and method in ("GET", "HEAD"):
            status, body = "200 OK", b"OK"
            headers += [("Builder-Version", "1"), ("Content-Type", "text/plain; charset=utf-8")]
        elif api == "/version" and method == "GET":
            status, body = "200 OK", json.dumps(self.version()).encode()
            headers.append(("Content-Type", "application/json"))
        else:
            error = refusal(method, path, query)
            status, body = "501 Not Implemented", json.dumps({"message": error}).encode()
            headers.append(("Content-Type", "application/json"))
        headers.append(("Content-Length", str(len(body))))
        record: dict[str, Any] = {
            "kind": "docker",
            "method": method,
            "path": path,
            "status": int(status.split()[0]),
            "action": "refuse" if error else "answer",
            "error": error,
        }
        if api == "/build" and query.get("t"):
            record["image"] = query["t"][0]
        self.journal.append(record)
        start_response(status, headers)
        return [b"" if method == "HEAD" else body]

    @staticmethod
    def version() -> dict[str, Any]:
        """``GET /version``, the fields docker-py and the CLI read; the name says what it is."""
        name = f"motobox {__version__}: no Docker engine (version check only)"
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
        engine = {
            "Version": "0.0.0-motobox",
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "Os": "linux",
            "Arch": arch,
            "KernelVersion": platform.release(),
            "GitCommit": "",
            "GoVersion": "",
            "BuildTime": "",
        }
        details = {k: v for k, v in engine.items() if k != "Version"}
        return {
            "Platform": {"Name": name},
            "Components": [{"Name": "Engine", "Version": engine["Version"], "Details": details}],
            **engine,
        }


class DockerStandIn:
    """``DockerAPI`` served on a Unix socket in ``folder`` until ``stop``."""

    def __init__(self, journal: Journal, folder: Path) -> None:
        self.app = DockerAPI(journal)
        self._own_folder: Path | None = None
        path = folder / "docker.sock"
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            self._own_folder = Path(tempfile.mkdtemp(prefix="motobox-docker-", dir="/tmp"))
            path = self._own_folder / "docker.sock"
        self.path = path
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """What ``DOCKER_HOST`` says."""
        return f"unix://{self.path}"

    def start(self) -> DockerStandIn:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _Quiet(WSGIRequestHandler):
            def log(self, type: str, message: str, *args: Any) -> None:
                return  # the journal is the log

        self._server = make_server(self.url, 0, self.app, threaded=True, request_handler=_Quiet)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="motobox-docker",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            # Shutting the listener down wakes ``serve_forever``'s select at once, instead of
            # after its poll interval (every cloud's stop would wait for it).
            with contextlib.suppress(OSError):
                self._server.socket.shutdown(socket.SHUT_RDWR)
            self._server.shutdown()
            if self._thread:
                self._thread.join(5)
            self._server.server_close()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        if self._own_folder is not None:
            shutil.rmtree(self._own_folder, ignore_errors=True)
