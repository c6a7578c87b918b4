"""Nothing lost under load or faults: many programs at once, many connections at once, large
bodies, and no leftovers after a program or motobox is killed."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import MOTOBOX, offline
from motobox.cloud import Cloud
from motobox.sandbox.egress import Stub

PROGRAM = """
import boto3, os, sys
account = sys.argv[1]
ssm = boto3.client("ssm")
for i in range(499):
    ssm.put_parameter(Name=f"/r/{i}", Value=f"{account}:{i}", Type="String")
# Every program uses the same names: a shared account would refuse the puts above
# (ParameterAlreadyExists) or show another program's value here.
print(ssm.get_parameter(Name="/r/0")["Parameter"]["Value"])
"""


def test_eight_programs_in_eight_accounts_each_make_500_calls_all_journaled_in_order(
    tmp_path: Path,
) -> None:
    accounts = [f"{100000000001 + n:012d}" for n in range(8)]
    script = tmp_path / "program.py"
    script.write_text(PROGRAM)
    # Sealed: a broken redirection could not reach the real SSM.
    with Cloud(seal=True) as cloud, ThreadPoolExecutor(8) as pool:
        runs = list(
            pool.map(
                lambda a: cloud.run([sys.executable, str(script), a], account=a, timeout=240),
                accounts,
            )
        )
        records = cloud.journal.calls()  # AWS calls only (the DNS questions are left out)
    for account, run in zip(accounts, runs, strict=True):
        assert run.exit_code == 0, run.stderr[-2000:]
        assert run.stdout.strip() == f"{account}:0"
    by_account: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_account[r["account"]].append(r)
    assert sorted(by_account) == accounts
    seqs = [r["seq"] for r in records]
    assert len(seqs) == len(set(seqs)) == 8 * 500  # every call exactly once
    for account in accounts:
        calls = by_account[account]
        assert [c["operation"] for c in calls] == ["PutParameter"] * 499 + ["GetParameter"]
        assert [c["params"]["Name"] for c in calls[:499]] == [f"/r/{i}" for i in range(499)]
        assert all(c["status"] == 200 for c in calls)


def test_200_concurrent_connects_to_stubbed_and_denied_hosts_are_all_answered() -> None:
    stubs = [Stub(host="stubbed.example", body="stubbed body")]
    with Cloud(stubs=stubs) as cloud:
        assert cloud.proxy and cloud.ca
        host, port = cloud.proxy.url.rsplit("/", 1)[-1].split(":")
        context = ssl.create_default_context(cafile=str(cloud.ca_bundle))
        barrier = threading.Barrier(200, timeout=60)

        def one(n: int) -> tuple[str, int, bytes]:
            target = "stubbed.example" if n % 2 == 0 else f"denied-{n}.example"
            conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=60)
            conn.set_tunnel(target, 443)
            barrier.wait()
            try:
                conn.request("GET", f"/path/{n}")
                response = conn.getresponse()
                return target, response.status, response.read()
            finally:
                conn.close()

        with ThreadPoolExecutor(200) as pool:
            answers = list(pool.map(one, range(200)))
        egress = cloud.journal.egress()
    for target, status, body in answers:
        if target == "stubbed.example":
            assert (status, body) == (200, b"stubbed body")
        else:
            assert status == 403 and target.encode() in body and b"motobox" in body
    assert len(egress) == 200
    urls = {r["url"] for r in egress}
    assert urls == {
        f"https://{'stubbed.example' if n % 2 == 0 else f'denied-{n}.example'}/path/{n}"
        for n in range(200)
    }
    assert sum(r["action"] == "stub" for r in egress) == 100
    assert sum(r["action"] == "deny" for r in egress) == 100


# -- large bodies --------------------------------------------------------------------------------
def _rss_kib(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    assert m
    return int(m.group(1))


def _serve() -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [*MOTOBOX, "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert proc.stdout
    exports = {}
    for line in proc.stdout:
        if line.startswith("export "):
            name, _, value = line[7:].strip().partition("=")
            exports[name] = value.strip("'")
        if line.startswith("unset "):
            break
    return proc, exports


def _measure(path: str) -> None:
    """Runs in a loopback-only namespace (the test below): puts and gets 50 MiB through one
    ``motobox serve`` and prints what it measured as JSON."""
    import boto3
    from botocore.config import Config

    payload = os.urandom(50 * 1024 * 1024)
    proc, exports = _serve()
    try:
        common = dict(
            region_name="us-east-1",
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        )
        setup = boto3.client("s3", endpoint_url=exports["AWS_ENDPOINT_URL"], **common)
        client = setup
        if path == "proxied":
            client = boto3.client(
                "s3",
                endpoint_url="https://s3.amazonaws.com",
                verify=exports["AWS_CA_BUNDLE"],
                config=Config(proxies={"https": exports["HTTPS_PROXY"]}),
                **common,
            )
        setup.create_bucket(Bucket="big")
        client.put_object(Bucket="big", Key="warm-up", Body=b"x" * 1024)
        idle = _rss_kib(proc.pid, "VmRSS")
        client.put_object(Bucket="big", Key="k", Body=payload)
        got = client.get_object(Bucket="big", Key="k")["Body"].read()
        peak = _rss_kib(proc.pid, "VmHWM")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    same = hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()
    print(json.dumps({"same": same, "idle_kib": idle, "peak_kib": peak}))


@pytest.mark.parametrize("path", ["direct", "proxied"])
def test_50_mib_objects_put_and_got_back_whole_without_holding_them_twice(path: str) -> None:
    """``direct``: to the cloud's endpoint over HTTP. ``proxied``: to https://s3.amazonaws.com
    through the egress proxy, as a program with a hard-coded endpoint does (botocore then sends
    the upload aws-chunked). One ``motobox serve`` per path, measured from outside, all in a
    loopback-only namespace: a broken proxy cannot send the upload to the real S3."""
    code = (
        f"import sys; sys.path[:0] = [{str(Path(__file__).parent)!r}]; "
        f"import test_reliability; test_reliability._measure({path!r})"
    )
    done = subprocess.run(
        offline([sys.executable, "-c", code]), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["same"], "the object came back changed"
    idle, peak = measured["idle_kib"] / 1024, measured["peak_kib"] / 1024
    print(f"\n{path}: motobox serve idle {idle:.0f} MiB, peak {peak:.0f} MiB")
    assert peak - idle < 150, f"motobox grew {peak - idle:.0f} MiB for a 50 MiB object"


# -- no leftovers --------------------------------------------------------------------------------
def _listening_ports(pid: int) -> set[int]:
    """TCP ports in LISTEN state owned by ``pid`` (from /proc, no tools needed)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[3] == "0A" and parts[9] in inodes:
            ports.add(int(parts[1].split(":")[1], 16))
    return ports


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize("how", ["program SIGKILL", "motobox SIGINT", "timeout"])
def test_nothing_remains_after_a_kill_an_interrupt_or_a_timeout(how: str, tmp_path: Path) -> None:
    """With a TMPDIR of its own, so that the temp dirs seen are this run's only."""
    program = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'],"
        " start_new_session=True)\n"
        "sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
        "time.sleep(300)\n"
    )
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    args = ["run", "--timeout", "3"] if how == "timeout" else ["run"]
    proc = subprocess.Popen(
        [*MOTOBOX, *args, "--", sys.executable, "-c", program],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    assert proc.stdout
    assert proc.stdout.readline().strip() == "ready"
    motobox_pid = _find_motobox(proc.pid)
    # The pid the program wrote is its PID namespace's; the host's are found from motobox down.
    deadline = time.monotonic() + 5
    while True:  # the child may still be between fork and exec
        everything = _descendants(motobox_pid)  # supervisor, program, its detached child
        sleepers = [p for p in everything if _cmdline(p).split(b"\0")[1:2] == [b"-c"]]
        if len(sleepers) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(sleepers) == 2, "the program and its detached child"
    ports = _listening_ports(motobox_pid)
    assert ports, "motobox listens (cloud and proxy)"
    assert list(tmp.glob("motobox-*")), "motobox keeps its state in a temp dir"
    if how == "program SIGKILL":
        os.kill(next(p for p in sleepers if b"ready" in _cmdline(p)), signal.SIGKILL)
    elif how == "motobox SIGINT":
        os.kill(motobox_pid, signal.SIGINT)
    code = proc.wait(timeout=30)
    assert code == {"program SIGKILL": 137, "motobox SIGINT": 130, "timeout": 124}[how]
    deadline = time.monotonic() + 5
    while any(map(_alive, everything)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, everything)), "no process motobox started remains"
    assert not _alive(motobox_pid)
    assert not list(tmp.glob("motobox-*")), "no temp dir remains"
    assert all(_port_is_free(port) for port in ports), "no port is left listening"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _find_motobox(root: int) -> int:
    """The python process running ``-m motobox``."""
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"motobox" in cmdline and b"-m" in cmdline:
            return pid
        todo += _children(pid)
    raise AssertionError("motobox process not found")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _descendants(pid: int) -> list[int]:
    found, todo = [], _children(pid)
    while todo:
        p = todo.pop()
        found.append(p)
        todo += _children(p)
    return found


def test_a_large_upload_is_journaled_by_size_and_checksum() -> None:
    """Bodies above 8 MiB stay on disk; the journal still names the payload."""
    payload = os.urandom(9 * 1024 * 1024)
    with Cloud() as cloud:
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket="big")
        s3.put_object(Bucket="big", Key="k", Body=payload)
        assert s3.get_object(Bucket="big", Key="k")["Body"].read() == payload
        (put,) = cloud.journal.calls("s3:PutObject", include_setup=True)
    assert put["params"]["Bucket"] == "big" and put["params"]["Key"] == "k"
    assert put["params"]["Body"] == {
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
