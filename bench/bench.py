"""``make bench``: motobox against plain ``moto_server`` (same moto), measured in one run.

Each server runs as a process of its own on 127.0.0.1; the client is boto3 in this process.
Every figure is the median of interleaved rounds (motobox, moto_server, motobox, ...), so the
noise of a shared machine hits both alike:

- p50 / p95 latency per call: sts:GetCallerIdentity, s3:PutObject 1 KiB and 1 MiB,
  cloudformation:DescribeStacks, dynamodb:GetItem;
- throughput: 8 threads, each with its own client, calling sts:GetCallerIdentity;
- start-up: from process start to the first answer;
- peak memory (VmHWM) of the server process;
- the floor: a loopback HTTP/1.1 server that returns a canned answer, doing no work;
- journal and a 20-rule scenario on, against motobox with both off (the journal is checked to
  hold one entry per call made: motobox caches nothing);
- 4 taskcat runs in parallel on one motobox, each in its own account, against the same 4 one
  after another;
- the start-up cost of sealing: ``motobox run --seal -- true`` against ``motobox run -- true``,
  for this user's path (``seal_startup``: root's under ``make bench``) and, run as root, for a
  user without privilege (``seal_startup_userns``: as uid 65534, a user namespace);
- motobox only (plain ``moto_server`` runs functions in Docker): ``lambda:Invoke`` of a trivial
  Python function, warm (p50) and cold (its first invocation: process start, runtime, import).

Prints a table and writes ``bench/results.json``. ``--quick`` for fewer calls and no taskcat.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TASKCAT = ROOT / ".tools" / "taskcat" / "bin" / "taskcat"
ANY_USER = ROOT / ".tools" / "any-user"
KEY = "MOTOBOX123456789012"
STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"
CANNED = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    b"<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x</Arn>"
    b"<UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
    b"<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    b"</GetCallerIdentityResponse>"
)
FLOOR = f"""
import http.server, socket, sys
ANSWER = (b"HTTP/1.1 200 OK\\r\\nContent-Type: text/xml\\r\\nContent-Length: %d\\r\\n\\r\\n%s"
          % (len({CANNED!r}), {CANNED!r}))
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()
    def log_message(self, *a): pass
    def do_POST(self):  # one write: headers and body in one segment
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(ANSWER)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    request = urllib.request.Request(
        url + "/",
        data=STS_BODY.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential="
            f"{KEY}/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


class Server:
    """One server process: ``kind`` is moto_server, motobox, motobox+ (journal and rules) or
    floor."""

    def __init__(self, kind: str, scenario: Path | None = None, journal: Path | None = None):
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        if kind == "moto_server":
            argv = [str(BIN / "moto_server"), "-p", str(self.port)]
        elif kind == "floor":
            argv = [sys.executable, "-c", FLOOR, str(self.port)]
        else:
            argv = [str(BIN / "motobox"), "serve", "--port", str(self.port)]
            if scenario:
                argv += ["--scenario", str(scenario)]
            if journal:
                argv += ["--journal", str(journal)]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while not _answers(self.url):
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: {kind} exited with {self.proc.returncode}")
            time.sleep(0.005)
        self.startup_s = time.perf_counter() - self.started

    def peak_rss_mb(self) -> float:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("VmHWM"))
        return kib / 1024

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=KEY,
            aws_secret_access_key="bench",
            config=Config(retries={"max_attempts": 1}),
        )

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _timed(call: Callable[[], Any], n: int) -> list[float]:
    for _ in range(min(20, n)):
        call()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1000)
    return times


def _pct(times: Sequence[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def operations(server: Server) -> dict[str, Callable[[], Any]]:
    sts, s3 = server.client("sts"), server.client("s3")
    cfn, ddb = server.client("cloudformation"), server.client("dynamodb")
    s3.create_bucket(Bucket="bench-bucket")
    ddb.create_table(
        TableName="bench",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="bench", Item={"k": {"S": "1"}, "v": {"S": "x"}})
    kib, mib = os.urandom(1024), os.urandom(1024 * 1024)
    return {
        "sts": sts.get_caller_identity,
        "s3_put_1k": lambda: s3.put_object(Bucket="bench-bucket", Key="k1", Body=kib),
        "s3_put_1m": lambda: s3.put_object(Bucket="bench-bucket", Key="k2", Body=mib),
        "cfn_describe": cfn.describe_stacks,
        "ddb_getitem": lambda: ddb.get_item(TableName="bench", Key={"k": {"S": "1"}}),
    }


LAMBDA_CODE = "def handler(event, context):\n    return event\n"


def lambda_invokes(server: Server, n: int) -> tuple[float, list[float]]:
    """A trivial Python function: its cold invocation and ``n`` warm ones, in ms."""
    import io
    import zipfile

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", LAMBDA_CODE)
    role = server.client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument="{}")
    lam = server.client("lambda")
    lam.create_function(
        FunctionName="bench",
        Runtime=f"python3.{sys.version_info[1]}",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )

    def call() -> None:
        answer = lam.invoke(FunctionName="bench", Payload=b'{"n": 1}')
        if answer.get("FunctionError"):
            raise SystemExit(f"bench: the function failed: {answer['Payload'].read()!r}")

    started = time.perf_counter()
    call()
    cold = (time.perf_counter() - started) * 1000
    return cold, _timed(call, n)


def throughput(server: Server, seconds: float) -> float:
    clients = [server.client("sts") for _ in range(8)]
    for c in clients:
        c.get_caller_identity()
    stop = time.perf_counter() + seconds
    counts = [0] * 8

    def work(i: int) -> None:
        while time.perf_counter() < stop:
            clients[i].get_caller_identity()
            counts[i] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def rules_scenario(folder: Path) -> Path:
    """20 rules on operations the benchmark does not call: every call is matched against all."""
    ops = [
        "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:CreateQueue", "sqs:DeleteQueue",
        "sns:Publish", "sns:CreateTopic", "lambda:Invoke", "lambda:ListFunctions",
        "ec2:DescribeInstances", "ec2:RunInstances", "iam:ListRoles", "iam:CreateRole",
        "kms:Encrypt", "kms:Decrypt", "ssm:GetParameter", "ssm:PutParameter",
        "logs:PutLogEvents", "events:PutEvents", "ecr:ListImages", "rds:DescribeDBInstances",
    ]  # fmt: skip
    lines = ["name: twenty rules", "rules:"]
    for op in ops:
        lines += [f'  - match: {{operation: "{op}"}}', "    error: {code: Throttling}"]
    path = folder / "rules.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def taskcat_runs(parallel: bool, accounts: Sequence[str], work: Path) -> float:
    """4 taskcat runs on one ``motobox serve``, each in its own account."""
    port = free_port()
    serve = subprocess.Popen(
        [str(BIN / "motobox"), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert serve.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for line in serve.stdout:
        if line.startswith("unset "):
            break
        name, _, value = line.removeprefix("export ").strip().partition("=")
        env[name] = value.strip("'")

    def one(account: str) -> int:
        project = work / f"{'p' if parallel else 's'}-{account}"
        shutil.copytree(
            ROOT / "examples" / "taskcat-project",
            project,
            ignore=shutil.ignore_patterns("taskcat_outputs"),
        )
        run_env = {**env, "AWS_ACCESS_KEY_ID": f"MOTOBOX{account}"}
        done = subprocess.run(
            [str(TASKCAT), "test", "run", "-o", str(project / "out")],
            cwd=project,
            env=run_env,
            capture_output=True,
        )
        return done.returncode

    started = time.perf_counter()
    try:
        if parallel:
            with ThreadPoolExecutor(len(accounts)) as pool:
                codes = list(pool.map(one, accounts))
        else:
            codes = [one(a) for a in accounts]
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(10)
    if any(codes):
        raise SystemExit(f"bench: a taskcat run failed: exit codes {codes}")
    return time.perf_counter() - started


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return (
        f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}, moto {version('moto')}"
    )


def warm_up() -> None:
    """Both servers as a user's second run finds them: motobox's modules compiled (pip compiles
    an installed package; an editable checkout under PYTHONDONTWRITEBYTECODE would compile them
    on every start), its user cache filled (the first run on a machine fills it), and both
    servers' files in the page cache."""
    import compileall

    log("bench: warm-up (compile motobox's modules, start each server once)")
    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    for kind in ("motobox", "moto_server"):
        Server(kind).stop()


def as_user(work: Path, uid: int = 65534) -> tuple[list[str], dict[str, str], Path]:
    """``motobox`` as ``uid`` (a user without privilege, whose seal is a user namespace) from
    ``.tools/any-user`` (``make tools``) and a compiled copy of this checkout's src the uid can
    read, with a home of its own; run once unsealed first, as a second run of a user."""
    root = work / "as-user"
    shutil.copytree(ROOT / "src" / "motobox", root / "src" / "motobox")
    python = str(ANY_USER / "bin" / "python")
    subprocess.run([python, "-m", "compileall", "-q", str(root / "src")], check=True)
    home = root / "home"
    home.mkdir()
    os.chown(home, uid, uid)
    for path in (work, root, *root.rglob("*")):
        path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(root / "src")}
    ids = [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    motobox = ["setpriv", *ids, "--", python, "-m", "motobox"]
    subprocess.run([*motobox, "run", "--", "true"], check=True, env=env, cwd=home)
    return motobox, env, home


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, no taskcat runs")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (5)")
    parser.add_argument("--calls", type=int, default=None, help="calls per operation (200)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 5)
    n = args.calls or (60 if args.quick else 200)
    figures: dict[str, dict[str, float]] = {}
    samples: dict[str, dict[str, list[float]]] = {}

    def add(name: str, side: str, value: float) -> None:
        samples.setdefault(name, {}).setdefault(side, []).append(value)

    work = Path(tempfile.mkdtemp(prefix="motobox-bench-"))
    try:
        scenario = rules_scenario(work)
        warm_up()
        log(f"bench: {rounds} interleaved rounds of {n} calls per operation")
        for r in range(rounds):
            for kind in ("motobox", "moto_server"):
                log(f"  round {r + 1}/{rounds}: {kind}")
                server = Server(kind)
                add("startup_s", kind, server.startup_s)
                for op, call in operations(server).items():
                    count = max(20, n // 4) if op == "s3_put_1m" else n
                    times = _timed(call, count)
                    add(f"p50_{op}_ms", kind, _pct(times, 0.5))
                    add(f"p95_{op}_ms", kind, _pct(times, 0.95))
                seconds = 0.5 if args.calls else 1.5 if args.quick else 3.0
                add("throughput_rps", kind, throughput(server, seconds))
                if kind == "motobox":
                    cold, warm = lambda_invokes(server, n)
                    add("lambda_cold_invoke_ms", kind, cold)
                    add("p50_lambda_invoke_ms", kind, _pct(warm, 0.5))
                add("peak_rss_mb", kind, server.peak_rss_mb())
                server.stop()
            # The floor, and motobox with the journal and 20 rules on against both off: three
            # times a round, since a 5 % target needs more samples than the ratios above.
            for rep in range(3):
                for kind in ("floor", "off", "on"):
                    journal = work / f"journal-{r}-{rep}.jsonl"
                    if kind == "floor":
                        server = Server("floor")
                    elif kind == "off":
                        server = Server("motobox")
                    else:
                        server = Server("motobox", scenario=scenario, journal=journal)
                    sts = server.client("sts")
                    times = _timed(sts.get_caller_identity, n)
                    add("floor_p50_sts" if kind == "floor" else "overhead", kind, _pct(times, 0.5))
                    if kind == "off":
                        add("floor_p50_sts", "motobox", _pct(times, 0.5))
                    server.stop()
                    if kind == "on":
                        entries = len(journal.read_text().splitlines())
                        # the timed calls, the warm-up, the readiness probe
                        made = n + min(20, n) + 1
                        if entries != made:
                            raise SystemExit(f"bench: the journal holds {entries} calls of {made}")
        from motobox.sandbox.seal import can_seal

        # Each path's sealing cost against the same user's unsealed run: this user's path
        # (root's under make bench) and, as root, the path of a user without privilege too.
        sealers: dict[str, tuple[list[str], dict[str, str] | None, Path | None]] = {}
        if can_seal()[0]:
            sealers["seal_startup"] = ([str(BIN / "motobox")], None, None)
        if os.geteuid() == 0 and (ANY_USER / ".stamp").exists():
            sealers["seal_startup_userns"] = as_user(work)
        for r in range(rounds):
            for name, (motobox, env, cwd) in sealers.items():
                log(f"  seal round {r + 1}/{rounds} ({name}): motobox run [--seal] -- true")
                for kind, extra in (("unsealed", []), ("sealed", ["--seal"])):
                    started = time.perf_counter()
                    subprocess.run(
                        [*motobox, "run", *extra, "--", "true"],
                        check=True,
                        stdout=subprocess.DEVNULL,
                        env=env,
                        cwd=cwd,
                    )
                    add(name, kind, time.perf_counter() - started)
        for name, sides in samples.items():
            med = {side: statistics.median(values) for side, values in sides.items()}
            if name == "overhead":
                figures["journal_rules_overhead"] = {
                    "off": med["off"],
                    "on": med["on"],
                    "ratio": med["on"] / med["off"],
                }
            elif name.startswith("seal_startup"):
                figures[name] = {
                    "unsealed_s": med["unsealed"],
                    "sealed_s": med["sealed"],
                    "ratio": med["sealed"] / med["unsealed"],
                }
            elif set(sides) == {"motobox"}:  # nothing to compare with
                figures[name] = {"motobox": med["motobox"]}
            elif name == "floor_p50_sts":
                figures[name] = {
                    "floor": med["floor"],
                    "motobox": med["motobox"],
                    "ratio": med["motobox"] / med["floor"],
                }
            else:
                figures[name] = {
                    "moto_server": med["moto_server"],
                    "motobox": med["motobox"],
                    "ratio": med["motobox"] / med["moto_server"],
                }
        if not args.quick:
            if not TASKCAT.exists():
                raise SystemExit("bench: taskcat is not installed; run `make bench`")
            accounts = [f"{111111111111 * k:012d}" for k in range(1, 5)]
            seq, par = [], []
            for r in range(3):
                log(f"  taskcat round {r + 1}/3: 4 one after another, then 4 in parallel")
                seq.append(taskcat_runs(False, accounts, work / f"t{r}"))
                par.append(taskcat_runs(True, accounts, work / f"t{r}"))
            s, p = statistics.median(seq), statistics.median(par)
            figures["taskcat_parallel_4"] = {"sequential_s": s, "parallel_s": p, "ratio": p / s}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    results = {"machine": machine(), "figures": figures}
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"machine: {results['machine']}")
    print(f"{'figure':28s} {'baseline':>12s} {'motobox':>12s} {'ratio':>8s}")
    for name, f in figures.items():
        if "ratio" not in f:
            print(f"{name:28s} {'-':>12s} {f['motobox']:12.3f} {'-':>8s}")
            continue
        keys = [k for k in f if k != "ratio"]
        base, ours = f[keys[0]], f[keys[1]]
        label = f"{name} ({keys[0]} -> {keys[1]})" if keys[0] != "moto_server" else name
        print(f"{label:28s} {base:12.3f} {ours:12.3f} {f['ratio']:8.2f}")
    print(f"written: {os.path.relpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
