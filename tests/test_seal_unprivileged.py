"""Sealed runs and supervision for a user without privilege: motobox runs as uid 65534, so the
program's namespaces are a user namespace of that user's (``seal: userns``), never root's.

Every test runs motobox inside a loopback-only network namespace as well (``offline``), so a
broken seal cannot leak. Each sealed one checks that the root path was not taken: the journal's
first record says ``userns``, or the program's uid map is the user's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sized
from pathlib import Path
from typing import TypeVar

import pytest

from conftest import OtherUser, offline, read_journal
from test_seal import BOTO_PROGRAM, UNREDIRECTED, _cmdline, _pids_running

UID = 65534
T = TypeVar("T", bound=Sized)
SEALED_AS_USER = {"seq": 1, "kind": "seal", "path": "userns", "uid": UID, "gid": UID}
WATCHED = [Path("/etc/resolv.conf"), Path("/etc/ssl/certs/ca-certificates.crt")]


def test_the_program_runs_as_the_user_in_a_loopback_only_namespace(
    other_user: OtherUser,
) -> None:
    """Only lo and no route; every name is 127.0.0.1; the egress control answers 403 over TLS
    that curl trusts through the system bundle; the uid maps to itself and the program holds
    no capability; what it writes belongs to the user; the host's files are untouched."""
    workspace = other_user.folder("workspace")
    journal = workspace / "j.jsonl"
    before = [p.read_bytes() for p in WATCHED if p.exists()]
    script = (
        "cat /proc/self/uid_map; grep CapEff /proc/self/status; "
        "ip -o link | cut -d: -f2; echo routes: $(ip route | wc -l); "
        "getent hosts sts.us-east-1.amazonaws.com anything.example; "
        "curl -sS -w '%{http_code}\\n' https://example.com/; "
        "echo written > out.txt; cat /etc/resolv.conf"
    )
    done = other_user.motobox(
        ["run", "--seal", "--journal", str(journal), "--", *UNREDIRECTED,
         "-u", "CURL_CA_BUNDLE", "-u", "SSL_CERT_FILE", "sh", "-c", script],
        cwd=workspace,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [str(UID), str(UID), "1"]  # not "0 0 4294967295"
    assert lines[1].split() == ["CapEff:", "0000000000000000"]
    assert [line.strip() for line in lines[2:4]] == ["lo", "routes: 0"]
    assert lines[4].split() == ["127.0.0.1", "sts.us-east-1.amazonaws.com"]
    assert lines[5].split() == ["127.0.0.1", "anything.example"]
    assert lines[6].startswith("motobox denied egress to example.com:")  # the body ends "\n"
    assert lines[7] == "403"
    assert "nameserver 127.0.0.1" in lines[8:]
    written = (workspace / "out.txt").stat()
    assert (written.st_uid, written.st_gid) == (UID, UID)
    records = read_journal(journal)
    assert records[0] == SEALED_AS_USER
    assert {"sts.us-east-1.amazonaws.com", "anything.example", "example.com"} <= {
        r["name"] for r in records if r["kind"] == "dns"
    }
    assert [p.read_bytes() for p in WATCHED if p.exists()] == before


def test_boto3_without_endpoint_or_proxy_reaches_only_the_mock(other_user: OtherUser) -> None:
    """The same program as the root test: virtual-hosted S3 and STS through motobox's DNS and
    port 443, a non-AWS host denied."""
    workspace = other_user.folder("workspace")
    journal = workspace / "j.jsonl"
    done = other_user.motobox(
        ["run", "--seal", "--journal", str(journal), "--", *UNREDIRECTED,
         other_user.python, "-c", BOTO_PROGRAM],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "resolves 127.0.0.1",
        "account 123456789012",
        "object sealed",
        "example.com 403 motobox denied egress to example.com",
    ]
    records = read_journal(journal)
    assert records[0] == SEALED_AS_USER
    assert "sealed-bucket.s3.us-west-2.amazonaws.com" in {
        r["name"] for r in records if r["kind"] == "dns"
    }
    aws = [f"{r['service']}:{r['operation']}" for r in records if r["kind"] == "aws"]
    assert aws == ["sts:GetCallerIdentity", "s3:CreateBucket", "s3:PutObject", "s3:GetObject"]
    egress = [(r["url"], r["action"]) for r in records if r["kind"] == "egress"]
    assert egress == [("https://example.com/", "deny")]


def test_the_node_sdk_reaches_the_mock_without_endpoint_or_proxy(other_user: OtherUser) -> None:
    """STS with the SDK's default addressing, S3 path-style (its default virtual-hosted
    requests meet a doubled Host header on the way to the mock, sealed or not, as root too)."""
    journal = other_user.folder("workspace") / "j.jsonl"
    done = other_user.motobox(
        ["run", "--seal", "--journal", str(journal), "--", *UNREDIRECTED,
         "node", str(other_user.tools["node"] / "sdk-v3.mjs")],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "account: 123456789012" in done.stdout
    records = read_journal(journal)
    assert records[0] == SEALED_AS_USER
    aws = [f"{r['service']}:{r['operation']}" for r in records if r["kind"] == "aws"]
    assert aws == ["s3:ListBuckets", "sts:GetCallerIdentity"]
    assert "sts.us-east-1.amazonaws.com" in {r["name"] for r in records if r["kind"] == "dns"}


def test_the_aws_cli_and_curl_reach_a_virtual_hosted_bucket(other_user: OtherUser) -> None:
    journal = other_user.folder("workspace") / "j.jsonl"
    aws = " ".join(other_user.aws)
    script = (
        f"{aws} s3 mb s3://motobox-sealed && "
        "curl -sS https://motobox-sealed.s3.us-east-1.amazonaws.com/"
    )
    done = other_user.motobox(
        ["run", "--seal", "--journal", str(journal), "--", *UNREDIRECTED,
         "-u", "CURL_CA_BUNDLE", "-u", "SSL_CERT_FILE", "sh", "-c", script],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "make_bucket: motobox-sealed" in done.stdout
    assert "<Name>motobox-sealed</Name>" in done.stdout
    assert read_journal(journal)[0] == SEALED_AS_USER


@pytest.mark.parametrize("how", ["program SIGKILL", "motobox SIGINT", "motobox SIGKILL"])
def test_nothing_is_left_after_a_sealed_run_is_killed(how: str, other_user: OtherUser) -> None:
    """The program (``exec sleep ...2``) detaches a child (``setsid sleep ...1``); whichever
    way the run ends, no process of it remains. motobox runs as the user, without
    capabilities."""
    nap = f"sleep 300.{os.getpid()}{time.monotonic_ns() % 10**6:06d}"
    script = f"setsid {nap}1 & echo ready; exec {nap}2"
    mounts = Path("/proc/self/mountinfo").read_text()
    proc = subprocess.Popen(
        other_user.motobox_argv(["run", "--seal", "--", "sh", "-c", script]),
        stdout=subprocess.PIPE,
        text=True,
        env=other_user.env,
        cwd=other_user.home,
    )
    assert proc.stdout and proc.stdout.readline().strip() == "ready"
    status = Path(f"/proc/{proc.pid}/status").read_text()  # unshare, sh, setpriv exec into it
    assert f"Uid:\t{UID}\t{UID}\t{UID}\t{UID}" in status
    assert "CapEff:\t0000000000000000" in status
    naps = _wait_for(lambda: _naps(nap))
    assert sorted(naps.values()) == [f"{nap}1", f"{nap}2"]
    if how == "program SIGKILL":
        os.kill(next(p for p, cmd in naps.items() if cmd == f"{nap}2"), signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGINT if how == "motobox SIGINT" else signal.SIGKILL)
    code = proc.wait(timeout=30)
    assert code == {"program SIGKILL": 137, "motobox SIGINT": 130, "motobox SIGKILL": -9}[how]
    left = _wait_for(lambda: {p: _cmdline(p) for p in _pids_running(nap)}, until_empty=True)
    assert not left, f"still running: {left}"
    assert Path("/proc/self/mountinfo").read_text() == mounts


@pytest.mark.parametrize("how", ["motobox SIGKILL", "timeout"])
def test_an_unsealed_run_of_a_user_is_supervised_too(how: str, other_user: OtherUser) -> None:
    """Without a seal a user's program gets no PID namespace (it would need a user namespace,
    where sudo stops working): the supervisor is a subreaper, and still nothing survives a
    SIGKILL of motobox, nor a timeout of a program that ignores SIGTERM."""
    nap = f"sleep 300.{os.getpid()}{time.monotonic_ns() % 10**6:06d}"
    script = f"trap '' TERM; setsid {nap}1 & echo ready; exec {nap}2"
    args = ["run", "--timeout", "1"] if how == "timeout" else ["run"]
    proc = subprocess.Popen(
        other_user.motobox_argv([*args, "--", "sh", "-c", script]),
        stdout=subprocess.PIPE,
        text=True,
        env=other_user.env,
        cwd=other_user.home,
    )
    assert proc.stdout and proc.stdout.readline().strip() == "ready"
    naps = _wait_for(lambda: _naps(nap))
    assert sorted(naps.values()) == [f"{nap}1", f"{nap}2"]
    if how == "motobox SIGKILL":
        os.kill(proc.pid, signal.SIGKILL)
    code = proc.wait(timeout=30)
    assert code == (-9 if how == "motobox SIGKILL" else 124)
    left = _wait_for(lambda: {p: _cmdline(p) for p in _pids_running(nap)}, until_empty=True)
    assert not left, f"still running: {left}"


def _naps(nap: str) -> dict[int, str]:
    """This run's sleeps by pid (other processes' command lines hold ``nap`` too)."""
    found = {p: _cmdline(p).strip() for p in _pids_running(nap)}
    return {p: cmd for p, cmd in found.items() if cmd.startswith(nap)}


# Run as root: a user namespace in which uid 0 and 65534 map to themselves; inside it (uid 0
# there holds its capabilities) user.max_user_namespaces is set to 0 for that namespace only,
# then the command runs as 65534. The host's sysctl is never touched.
REFUSING = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
unshared_r, unshared_w = os.pipe()
mapped_r, mapped_w = os.pipe()
child = os.fork()
if child == 0:
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        os._exit(99)
    os.write(unshared_w, b"x")
    os.read(mapped_r, 1)
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    os.execvp(sys.argv[1], sys.argv[1:])
os.read(unshared_r, 1)
for name in ("uid_map", "gid_map"):
    with open(f"/proc/{child}/{name}", "w") as f:
        f.write("0 0 1\n65534 65534 1\n")
os.write(mapped_w, b"x")
_, status = os.waitpid(child, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_where_user_namespaces_are_refused_seal_is_one_line_and_exit_2(
    other_user: OtherUser,
) -> None:
    """The program never runs unsealed; the line names the setting and the way out, and
    ``doctor`` says the same."""
    python = other_user.python
    script = (
        f"cat /proc/sys/user/max_user_namespaces; {python} -m motobox run --seal -- echo RAN; "
        f"echo exit $?; {python} -m motobox doctor >&2"
    )
    done = subprocess.run(
        offline([python, "-c", REFUSING, "sh", "-c", script]),
        env=other_user.env,
        cwd=other_user.home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["0", "exit 2"]  # and never "RAN"
    line = (
        "motobox: --seal: user namespaces are disabled here (user.max_user_namespaces=0); "
        "raise it (sysctl -w user.max_user_namespaces=15000), run motobox as root, or leave "
        "--seal out"
    )
    assert done.stderr.splitlines()[0] == line
    assert (
        "no  sealing                user namespaces are disabled here "
        "(user.max_user_namespaces=0)" in done.stderr
    )


def test_doctor_says_which_path_this_user_seals_by(other_user: OtherUser) -> None:
    done = other_user.motobox(["doctor"])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("ok  sealing                seal: userns") for line in lines)
    assert any(line.startswith("ok  process supervision    subreaper") for line in lines)


USER_TESTS = """
import sys
import pytest
from motobox.cloud import Cloud

LOOKUP = "import socket; print(socket.gethostbyname('anything.example'))"

@pytest.mark.motobox(seal=True)
def test_marker(motobox_cloud):
    result = motobox_cloud.run([sys.executable, "-c", LOOKUP])
    assert result.stdout.strip() == "127.0.0.1", result.stderr
    assert motobox_cloud.journal.records[0]["path"] == "userns"
    assert [r["name"] for r in motobox_cloud.journal.dns()] == ["anything.example"]

def test_cloud():
    with Cloud(seal=True) as cloud:
        result = cloud.run(["sh", "-c", "cat /proc/self/uid_map; getent hosts a.example"])
        assert cloud.sealed.path == "userns"
    assert result.stdout.split() == ["65534", "65534", "1", "127.0.0.1", "a.example"]
"""


def test_the_pytest_marker_and_cloud_seal_as_the_user(other_user: OtherUser) -> None:
    tests = other_user.folder("tests")
    (tests / "test_user.py").write_text(USER_TESTS)
    done = subprocess.run(
        offline(
            other_user.argv(
                [
                    other_user.python,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "-p",
                    "motobox.pytest_plugin",
                    str(tests),
                ]
            )
        ),  # fmt: skip
        env=other_user.env,
        cwd=tests,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_action_steps_run_sealed_as_the_user(other_user: OtherUser) -> None:
    action = other_user.folder("action")
    (action / "action.yml").write_text(
        "name: t\nruns:\n  using: composite\n  steps:\n"
        "    - shell: bash\n"
        "      run: |\n"
        "        cat /proc/self/uid_map\n"
        "        getent hosts anything.example\n"
        "        curl -s https://example.com/ || true\n"
        "        echo step > step.txt\n"
    )
    workspace = other_user.folder("workspace")
    done = other_user.motobox(["action", str(action), "--seal", "--workspace", str(workspace)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{UID}      {UID}          1" in done.stdout
    assert "127.0.0.1       anything.example" in done.stdout
    assert "motobox denied egress to example.com" in done.stdout
    assert (workspace / "step.txt").stat().st_uid == UID


def _wait_for(probe: Callable[[], T], *, until_empty: bool = False) -> T:
    """``probe()`` once it has two processes (or none, ``until_empty``), or after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        found = probe()
        if (not found if until_empty else len(found) >= 2) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
