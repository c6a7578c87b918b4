"""Sealed runs: with --seal a program that reads no endpoint and no proxy setting still reaches
only the mock and motobox's egress control, through motobox's DNS. Every test here runs inside
a loopback-only network namespace as well (``offline``), so a broken seal cannot leak."""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import AWS_CLI, NODE_DIR, ROOT, TASKCAT, motobox, read_journal, require
from motobox.sandbox.seal import dns_answer

# The program is stripped of every redirection but the CA variables and the seal itself.
UNREDIRECTED = [
    "env",
    "-u", "AWS_ENDPOINT_URL", "-u", "AWS_DATA_PATH",
    "-u", "HTTP_PROXY", "-u", "HTTPS_PROXY", "-u", "http_proxy", "-u", "https_proxy",
    "-u", "ALL_PROXY", "-u", "all_proxy",
]  # fmt: skip

BOTO_PROGRAM = """
import socket, urllib.error, urllib.request, boto3
print("resolves", socket.gethostbyname("sts.amazonaws.com"))
print("account", boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"])
s3 = boto3.client("s3", region_name="us-west-2",
                  config=boto3.session.Config(s3={"addressing_style": "virtual"}))
s3.create_bucket(Bucket="sealed-bucket",
                 CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
s3.put_object(Bucket="sealed-bucket", Key="k", Body=b"sealed")
print("object", s3.get_object(Bucket="sealed-bucket", Key="k")["Body"].read().decode())
try:
    urllib.request.urlopen("https://example.com/", timeout=10)
except urllib.error.HTTPError as e:
    print("example.com", e.code, e.read().decode().split(":")[0])
"""


def test_boto3_without_endpoint_or_proxy_reaches_only_the_mock(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    done = motobox(
        ["run", "--seal", "--journal", str(journal), "--", *UNREDIRECTED,
         sys.executable, "-c", BOTO_PROGRAM],
        isolated=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "resolves 127.0.0.1",
        "account 123456789012",
        "object sealed",
        "example.com 403 motobox denied egress to example.com",
    ]
    records = read_journal(journal)
    assert records[0] == {"seq": 1, "kind": "seal", "path": "root", "uid": 0, "gid": 0}
    names = {r["name"] for r in records if r["kind"] == "dns"}
    assert {"sts.amazonaws.com", "example.com"} <= names
    assert "sealed-bucket.s3.us-west-2.amazonaws.com" in names  # virtual-hosted S3
    aws = [f"{r['service']}:{r['operation']}" for r in records if r["kind"] == "aws"]
    assert aws == ["sts:GetCallerIdentity", "s3:CreateBucket", "s3:PutObject", "s3:GetObject"]
    egress = [r for r in records if r["kind"] == "egress"]
    assert [(r["url"], r["action"]) for r in egress] == [("https://example.com/", "deny")]


def test_curl_trusts_the_ca_through_the_system_bundle_and_the_host_is_untouched(
    tmp_path: Path,
) -> None:
    require(Path(shutil.which("curl") or "/usr/bin/curl"))
    before = Path("/etc/resolv.conf").read_bytes()
    done = motobox(
        ["run", "--seal", "--", *UNREDIRECTED, "-u", "CURL_CA_BUNDLE", "-u", "SSL_CERT_FILE",
         "sh", "-c", "curl -sS -w ' %{http_code}' https://example.com/; cat /etc/resolv.conf"],
        isolated=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "motobox denied egress to example.com" in done.stdout and " 403" in done.stdout
    assert "nameserver 127.0.0.1" in done.stdout
    assert Path("/etc/resolv.conf").read_bytes() == before


def test_the_node_sdk_reaches_the_mock_without_endpoint_or_proxy(tmp_path: Path) -> None:
    require(NODE_DIR / "node_modules" / ".stamp")
    journal = tmp_path / "j.jsonl"
    done = motobox(
        ["run", "--seal", "--journal", str(journal), "--", *UNREDIRECTED,
         "node", str(NODE_DIR / "sdk-v3.mjs")],
        isolated=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "account: 123456789012" in done.stdout
    records = read_journal(journal)
    aws = [f"{r['service']}:{r['operation']}" for r in records if r["kind"] == "aws"]
    assert aws == ["s3:ListBuckets", "sts:GetCallerIdentity"]
    assert {"sts.us-east-1.amazonaws.com"} <= {r["name"] for r in records if r["kind"] == "dns"}


def test_the_aws_cli_and_curl_reach_a_virtual_hosted_bucket() -> None:
    """The AWS CLI makes the bucket; curl lists it at its virtual-hosted name over TLS it
    trusts through the system bundle (its own CA variables removed)."""
    aws = require(AWS_CLI)
    script = (
        f"{aws} s3 mb s3://motobox-sealed && "
        "curl -sS https://motobox-sealed.s3.us-east-1.amazonaws.com/"
    )
    done = motobox(
        ["run", "--seal", "--", *UNREDIRECTED, "-u", "CURL_CA_BUNDLE", "-u", "SSL_CERT_FILE",
         "sh", "-c", script],
        isolated=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "make_bucket: motobox-sealed" in done.stdout
    assert "<ListBucketResult" in done.stdout and "<Name>motobox-sealed</Name>" in done.stdout
    assert "<Contents>" not in done.stdout


def test_inside_only_loopback_no_route_and_stubs_still_answer(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: stub\negress:\n  - host: stubbed.example\n    body: from the stub\n")
    journal = tmp_path / "j.jsonl"
    script = (
        "ip -o link | cut -d: -f2; echo routes: $(ip route | wc -l); "
        "getent hosts sts.us-east-1.amazonaws.com; "
        "curl -sS https://stubbed.example/; echo; curl -sS https://example.com/"
    )
    done = motobox(
        ["run", "--seal", "--scenario", str(scenario), "--journal", str(journal), "--",
         *UNREDIRECTED, "sh", "-c", script],
        isolated=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.strip() for line in lines[:2]] == ["lo", "routes: 0"]
    assert lines[2].split() == ["127.0.0.1", "sts.us-east-1.amazonaws.com"]
    assert lines[3] == "from the stub"
    assert "motobox denied egress to example.com" in lines[4]
    records = read_journal(journal)
    dns = {r["name"] for r in records if r["kind"] == "dns"}
    assert {"sts.us-east-1.amazonaws.com", "stubbed.example", "example.com"} <= dns
    egress = [(r["url"], r["action"]) for r in records if r["kind"] == "egress"]
    assert egress == [("https://stubbed.example/", "stub"), ("https://example.com/", "deny")]


def test_nothing_is_left_after_a_sealed_run_killed_or_not(tmp_path: Path) -> None:
    """The host's resolver file, CA bundle and mounts are as before; no process remains."""
    import signal
    import subprocess
    import time

    from conftest import MOTOBOX, offline

    watched = [Path("/etc/resolv.conf"), Path("/etc/ssl/certs/ca-certificates.crt")]
    before = [p.read_bytes() for p in watched if p.exists()]
    mounts = Path("/proc/self/mountinfo").read_text()
    done = motobox(["run", "--seal", "--", "true"], isolated=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # A duration no other process on the machine has: only this run's processes match it.
    nap = f"sleep 300.{os.getpid()}{time.monotonic_ns() % 10**6:06d}"
    proc = subprocess.Popen(
        offline([*MOTOBOX, "run", "--seal", "--", "sh", "-c", f"echo ready; {nap}"]),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout and proc.stdout.readline().strip() == "ready"
    sleepers = _pids_running(nap)
    assert proc.pid in sleepers and len(sleepers) >= 3  # motobox, the supervisor, the program
    proc.send_signal(signal.SIGKILL)  # motobox itself (unshare and sh exec into it)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _pids_running(nap) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {pid: _cmdline(pid) for pid in _pids_running(nap)}
    assert not left, f"still running after motobox was killed: {left}"
    assert [p.read_bytes() for p in watched if p.exists()] == before
    assert Path("/proc/self/mountinfo").read_text() == mounts


def test_taskcat_sealed_under_a_ready_scenario(tmp_path: Path) -> None:
    require(TASKCAT)
    project = tmp_path / "project"
    shutil.copytree(
        ROOT / "examples" / "taskcat-project",
        project,
        ignore=shutil.ignore_patterns("taskcat_outputs"),
    )
    journal = tmp_path / "j.jsonl"
    scenario = ROOT / "scenarios" / "taskcat" / "create-complete.yaml"
    done = motobox(
        ["run", "--seal", "--journal", str(journal), "--scenario", str(scenario), "--",
         *UNREDIRECTED, str(TASKCAT), "test", "run"],
        cwd=project,
        isolated=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "6 of 6 expectations hold" in done.stderr
    names = {r["name"] for r in read_journal(journal) if r["kind"] == "dns"}
    assert "cloudformation.ca-central-1.amazonaws.com" in names


def test_action_steps_run_sealed(tmp_path: Path) -> None:
    action = tmp_path / "action"
    action.mkdir()
    (action / "action.yml").write_text(
        "name: t\nruns:\n  using: composite\n  steps:\n"
        "    - shell: bash\n"
        "      run: getent hosts anything.example; curl -s https://example.com/ || true\n"
    )
    done = motobox(
        ["action", str(action), "--seal", "--workspace", str(tmp_path)],
        isolated=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "127.0.0.1       anything.example" in done.stdout
    assert "motobox denied egress to example.com" in done.stdout


def _query(name: str, qtype: int) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return (
        struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
        + labels
        + b"\0"
        + struct.pack("!HH", qtype, 1)
    )


@pytest.mark.parametrize(("qtype", "answers"), [(1, 1), (28, 0), (65, 0)])
def test_dns_answers_a_with_loopback_and_others_with_no_error(qtype: int, answers: int) -> None:
    answer = dns_answer(_query("bucket.s3.amazonaws.com", qtype))
    assert answer is not None
    packet, name, got = answer
    ident, flags, qd, an = struct.unpack("!HHHH", packet[:8])
    assert (ident, qd, an, name, got) == (0x1234, 1, answers, "bucket.s3.amazonaws.com", qtype)
    assert flags & 0x8000 and flags & 0x000F == 0  # a response, NOERROR
    if answers:
        assert packet.endswith(bytes([127, 0, 0, 1]))


@pytest.mark.parametrize("packet", [b"", b"\x00" * 11, _query("a.b", 1)[:-3]])
def test_malformed_dns_queries_are_dropped(packet: bytes) -> None:
    assert dns_answer(packet) is None


def test_the_pytest_marker_seals_a_test(tmp_path: Path) -> None:
    """A user's test with @pytest.mark.motobox(seal=True), run by pytest in a loopback-only
    namespace."""
    from conftest import offline

    (tmp_path / "test_user.py").write_text(
        "import sys\n"
        "import pytest\n\n"
        "@pytest.mark.motobox(seal=True)\n"
        "def test_sealed(motobox_cloud):\n"
        "    code = 'import socket; print(socket.gethostbyname(\"anything.example\"))'\n"
        "    result = motobox_cloud.run([sys.executable, '-c', code])\n"
        "    assert result.stdout.strip() == '127.0.0.1'\n"
        "    assert motobox_cloud.journal.records[0]['path'] == 'root'\n"
        "    assert motobox_cloud.journal.dns()[0]['name'] == 'anything.example'\n"
    )
    import subprocess

    done = subprocess.run(
        offline([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_doctor_says_whether_this_machine_can_seal() -> None:
    done = motobox(["doctor"])
    assert done.returncode == 0
    assert "ok  sealing                seal: root (" in done.stdout
    assert "ok  process supervision    pid-namespace (" in done.stdout


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "(gone)"


def _pids_running(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry.name))
    return found


def test_a_helper_that_failed_before_reading_our_ports_is_still_heard() -> None:
    """The namespace helper refuses at its first step and exits with motobox's ports unread:
    the kernel reports ECONNRESET before the helper's answer, which came through CI as a
    ``ConnectionResetError`` traceback instead of the one line naming the setting."""
    import errno
    import socket
    import subprocess

    from motobox.errors import UsageError
    from motobox.sandbox.seal import NamespaceHelper, refusal

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    theirs.send(f"unshare {errno.ENOSPC}".encode())

    class Channel:  # our end, where the helper exits just after our ports arrive
        def send(self, data: bytes) -> int:
            sent = ours.send(data)
            theirs.close()  # with our ports unread
            return sent

        def recvmsg(self, *args: int) -> Any:
            return ours.recvmsg(*args)

        def __enter__(self) -> Channel:
            return self

        def __exit__(self, *exc: object) -> None:
            ours.close()

    helper = NamespaceHelper.__new__(NamespaceHelper)
    helper.path = "userns"
    helper._channel = Channel()  # type: ignore[assignment]
    helper._helper = subprocess.Popen(["true"], stderr=subprocess.PIPE)
    with pytest.raises(UsageError) as refused:
        helper.finish([8080])
    assert refused.value.line() == refusal("userns", "unshare", errno.ENOSPC)
