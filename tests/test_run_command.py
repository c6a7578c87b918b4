"""``motobox run``: exit codes, signals, time-outs, usage errors, an external backend."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import MOTOBOX, motobox, ops, read_journal


def _alive_with(marker: str) -> list[int]:
    """``sleep`` processes whose command line holds ``marker``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"sleep\0") and marker.encode() in cmdline:
                pids.append(int(entry))
    return pids


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_the_programs_exit_code_passes_through(code: int) -> None:
    assert motobox(["run", "--", "sh", "-c", f"exit {code}"]).returncode == code


def test_a_program_killed_by_sigkill_gives_137() -> None:
    assert motobox(["run", "--", "sh", "-c", "kill -9 $$"]).returncode == 137


def test_timeout_gives_124_and_leaves_no_process_behind() -> None:
    marker = f"1000.{os.getpid()}1"
    script = f"sleep {marker} & setsid sleep {marker} & sleep {marker}"
    started = time.monotonic()
    done = motobox(["run", "--timeout", "1", "--", "sh", "-c", script])
    assert done.returncode == 124
    assert time.monotonic() - started < 10
    time.sleep(0.3)
    assert _alive_with(marker) == []


def test_a_missing_command_gives_127_and_one_line() -> None:
    done = motobox(["run", "--", "no-such-command-motobox"])
    assert done.returncode == 127
    assert done.stderr.strip().splitlines() == [
        "motobox: no-such-command-motobox: command not found (is it installed and on PATH?)"
    ]


def test_an_unknown_option_gives_2_and_one_line() -> None:
    done = motobox(["run", "--no-such-option", "--", "true"])
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "--no-such-option" in done.stderr and "Traceback" not in done.stderr


def test_a_taken_port_gives_2_and_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = motobox(["run", "--port", str(port), "--", "true"])
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert f"127.0.0.1:{port}" in line and "--port" in line


def test_sigint_is_forwarded_to_the_program() -> None:
    proc = subprocess.Popen(
        [
            *MOTOBOX,
            "run",
            "--",
            "sh",
            "-c",
            "trap 'exit 42' INT; echo ready; while :; do sleep 0.1; done",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 42


EARLY_SIGNAL = """
import os, signal, subprocess, sys
from motobox.sandbox import _init

child = subprocess.Popen(
    ["sh", "-c", "trap 'exit 42' INT; echo ready; while :; do sleep 0.05; done"],
    stdout=subprocess.PIPE, text=True,
)
child.stdout.readline()
_init._hold_signals()
os.kill(os.getpid(), signal.SIGINT)  # comes before forwarding is in place
_init._forward_to(child.pid)
print("program exit", child.wait(timeout=10))
"""


def test_a_signal_before_the_supervisor_forwards_waits_for_forwarding() -> None:
    """The program can answer before its supervisor has set up forwarding (CI once sent
    Ctrl-C in that moment: the supervisor died with a traceback and the program never got
    it). Such a signal waits, and then reaches the program."""
    done = subprocess.run(
        [sys.executable, "-c", EARLY_SIGNAL], capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "program exit 42"


def test_when_motobox_is_killed_the_program_and_its_detached_children_die(tmp_path: Path) -> None:
    marker = f"1000.{os.getpid()}2"
    proc = subprocess.Popen(
        [*MOTOBOX, "run", "--", "sh", "-c", f"setsid sleep {marker} & echo ready; sleep {marker}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout and proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 5
    while len(_alive_with(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_alive_with(marker)) == 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while _alive_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive_with(marker) == []


def test_an_external_moto_server_backend_keeps_the_journal_complete(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        journal = tmp_path / "j.jsonl"
        script = (
            "import boto3; s3 = boto3.client('s3'); s3.create_bucket(Bucket='remote-bucket');"
            "print([b['Name'] for b in s3.list_buckets()['Buckets']])"
        )
        done = motobox(
            [
                "run",
                "--backend",
                f"http://127.0.0.1:{port}",
                "--journal",
                str(journal),
                "--",
                sys.executable,
                "-c",
                script,
            ]
        )
        assert done.returncode == 0, done.stderr
        assert "remote-bucket" in done.stdout
        assert ops(read_journal(journal)) == ["s3:CreateBucket", "s3:ListBuckets"]
        # The bucket lives in the external server, not in an embedded cloud.
        import boto3

        remote = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="y",
        )
        assert [b["Name"] for b in remote.list_buckets()["Buckets"]] == ["remote-bucket"]
    finally:
        server.terminate()
        server.wait(10)
