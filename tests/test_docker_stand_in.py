"""motobox's stand-in Docker engine (``sandbox/docker.py``), seen by real Docker clients.

docker-py 7 (in taskcat's virtualenv) asks for the version and gets it; anything else is an
``APIError`` that carries motobox's one line. A user who names an engine keeps it.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path

import pytest

from conftest import TASKCAT, motobox, read_journal, require
from motobox.journal import Journal
from motobox.sandbox.docker import DockerStandIn
from motobox.sandbox.environment import build_program_env

TASKCAT_PYTHON = TASKCAT.parent / "python"

DOCKER_PY = """
import json, os
import docker
from docker import APIClient
from docker.errors import APIError

client = docker.from_env()
out = {"api": client.version()["ApiVersion"], "ping": client.ping()}
try:
    list(APIClient(os.environ["DOCKER_HOST"]).build(path=os.environ["CONTEXT"], tag="demo"))
except APIError as exc:
    out["build"] = exc.explanation
try:
    client.containers.list()
except APIError as exc:
    out["list"] = exc.explanation
print(json.dumps(out))
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCKER_"))}
    return {**env, **extra}


@pytest.mark.parametrize("seal", [False, True], ids=["proxy", "sealed"])
def test_docker_py_gets_the_version_and_one_line_refusals(tmp_path: Path, seal: bool) -> None:
    python = require(TASKCAT_PYTHON)
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    (context / "payload").write_bytes(os.urandom(1 << 20))  # read to the end before answering
    journal = tmp_path / "calls.jsonl"
    args = ["run", *(["--seal"] if seal else []), "--journal", str(journal), "--"]
    done = motobox([*args, python, "-c", DOCKER_PY], env=_env(CONTEXT=str(context)), isolated=True)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["api"] == "1.45" and out["ping"] is True
    assert out["build"].startswith("motobox: docker build of demo needs a Docker engine")
    assert "DOCKER_HOST=unix:///var/run/docker.sock" in out["build"]
    assert out["list"].startswith("motobox: GET /containers/json needs a Docker engine")
    records = [r for r in read_journal(journal) if r["kind"] == "docker"]
    # from_env() and APIClient() each ask the version before their first call.
    assert [(r["method"], r["path"].rsplit("/", 1)[-1], r["action"]) for r in records] == [
        ("GET", "version", "answer"),
        ("GET", "version", "answer"),
        ("GET", "_ping", "answer"),
        ("GET", "version", "answer"),
        ("POST", "build", "refuse"),
        ("GET", "json", "refuse"),
    ]
    assert records[4]["image"] == "demo" and records[4]["error"] == out["build"]


def test_a_chunked_build_context_gets_the_refusal_not_a_reset(tmp_path: Path) -> None:
    """The docker CLI streams the build context chunked; the answer waits for its end."""
    stand_in = DockerStandIn(Journal(), tmp_path).start()
    try:

        class UnixConnection(http.client.HTTPConnection):
            def connect(self) -> None:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(stand_in.path))

        conn = UnixConnection("localhost")
        blocks = (os.urandom(1 << 16) for _ in range(64))
        conn.request("POST", "/v1.45/build?t=cli-image", body=blocks, encode_chunked=True)
        answer = conn.getresponse()
        message = json.loads(answer.read())["message"]
    finally:
        stand_in.stop()
    assert answer.status == 501
    assert message.startswith("motobox: docker build of cli-image needs a Docker engine")
    assert not stand_in.path.exists()


@pytest.mark.parametrize(
    ("parent", "expected"),
    [
        ({}, "stand-in"),
        ({"DOCKER_HOST": "unix:///var/run/docker.sock"}, "unix:///var/run/docker.sock"),
        ({"DOCKER_HOST": "tcp://10.0.0.5:2376"}, "tcp://10.0.0.5:2376"),
        ({"DOCKER_CONTEXT": "desktop-linux"}, None),
    ],
    ids=["none", "socket", "tcp", "context"],
)
def test_an_engine_the_user_names_is_kept(
    tmp_path: Path, parent: dict[str, str], expected: str | None
) -> None:
    stand_in = "unix:///run/motobox-x/docker.sock"
    env = build_program_env(
        parent,
        endpoint_url="http://127.0.0.1:1",
        credentials=None,
        state_dir=tmp_path,
        legacy_redirect=False,
        docker_host=stand_in,
    )
    assert env.get("DOCKER_HOST") == (stand_in if expected == "stand-in" else expected)


def test_a_deep_state_folder_gets_the_socket_in_a_short_folder(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    stand_in = DockerStandIn(Journal(), deep).start()
    try:
        assert len(os.fsencode(stand_in.path)) <= 107 and stand_in.path.exists()
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(stand_in.path))
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        stand_in.stop()
    assert not stand_in.path.parent.exists()
