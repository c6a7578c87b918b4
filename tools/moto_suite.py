"""moto's own server-mode tests, run against plain ``moto_server`` and against ``motobox serve``,
compared id by id: ``make moto-suite`` (whole services) and ``tests/test_moto_suite.py`` (a fixed
list of ids, in ``make test``).

Data flow::

    .tools/moto-suite/          made by ``make``: the moto==5.2.5 sdist (it ships ``tests/``),
      moto-5.2.5/tests/         its tests extracted, and ``venv/`` with moto[server]==5.2.5 and
      venv/                     what those tests import (pytest, freezegun) + pytest-timeout
            │
    run ────┼─ lane (moto_server, shard 1) ─┐   each lane: a process in a network namespace of
            ├─ lane (motobox, shard 1) ─────┤   its own (loopback only) that starts its server on
            ┆  … ``--lanes N`` shards each  ┆   127.0.0.1:5000, runs pytest over its shard with
            │                               │   TEST_SERVER_MODE=true, and stops the server
            │                               ▼
            │              one JSON line per test (tools/moto_suite_plugin.py)
            ▼
    results.json + a table: per service passed/failed/errored under each server, and the ids
    that pass under moto_server but not under motobox, each with its first failure line.

Why lanes in namespaces, not xdist workers against one server: every test POSTs
``/moto-api/reset`` when it starts (moto's ``ServerModeMockAWS``), so two test processes sharing
a server wipe each other's state; and some tests hard-code ``http://localhost:5000`` (sqs queue
URLs, s3, the moto-api tests), so every server must be on port 5000. A network namespace per lane
gives each its own loopback, hence its own port 5000, and keeps the tests hermetic: the lane
cannot reach anything but its own server. An xdist worker cannot be put into a namespace of its
own before it starts, so a lane is a whole pytest process; ``--lanes`` splits the test files
between several lanes per server instead. Both servers' lanes run at the same time, so
time-sensitive tests see the same load under each.

The servers get the environment moto's CI gives its server (``MOTO_EC2_LOAD_DEFAULT_AMIS=false``,
``AWS_ACCESS_KEY_ID=server_key``…); tests that need Docker are skipped
(``TESTS_SKIP_REQUIRES_DOCKER``), as are those marked ``network``. Skipped tests are left out of
the comparison; ``EXCLUDED`` names the tests we deselect, each with its reason.

Subcommands: ``run`` (what make and the test call), ``pick`` (makes the fixed list of ids for
``make test`` from a run's results) and ``lane`` (internal: one lane, already inside its
namespace).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MOTO_VERSION = "5.2.5"
SUITE = ROOT / ".tools" / "moto-suite"
TESTS_ROOT = SUITE / f"moto-{MOTO_VERSION}"
SUITE_PYTHON = SUITE / "venv" / "bin" / "python"
BIN = ROOT / ".venv" / "bin"
PORT = 5000
SERVERS = {
    "moto_server": [str(BIN / "moto_server"), "-p", str(PORT)],
    "motobox": [str(BIN / "motobox"), "serve", "--port", str(PORT)],
}
SERVICES = [
    *("sts", "iam", "cloudformation", "ssm", "s3", "sqs", "dynamodb", "core"),
    # what motobox's fixes also touch: CloudFormation models, triggers, events, execution
    *("ec2", "apigateway", "awslambda", "sns", "events", "stepfunctions"),
    *("kms", "secretsmanager", "elbv2", "efs"),
]
# What moto's CI sets for its server (.github/workflows/tests_servermode.yml), for both servers.
SERVER_ENV = {
    "TEST_SERVER_MODE": "true",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true",
    "AWS_ACCESS_KEY_ID": "server_key",
    "AWS_SECRET_ACCESS_KEY": "server_secret",
}
CLIENT_ENV = {
    "TEST_SERVER_MODE": "true",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    "TESTS_SKIP_REQUIRES_DOCKER": "true",
}
# Tests deselected under both servers, with the reason. Each failed under both (moto 5.2.5).
EXCLUDED: dict[str, str] = {
    "tests/test_cloudformation/test_cloudformation_custom_resources.py"
    "::test_create_custom_lambda_resource": "its custom resource runs a Lambda function, which "
    "moto runs in Docker (the test lacks the requires_docker mark its siblings have)",
    "tests/test_s3/test_server.py::test_s3_server_post_cors_multiple_origins": "it starts a "
    "server of its own in-process on port 6789 and calls http://testcors.localhost:6789, a name "
    "this machine's resolver does not give an address (and no lane has DNS); it never reaches "
    "the server under test",
}
#: Tests that assert moto's own behaviour where motobox, on purpose, answers as CloudFormation
#: does (the stack engine, ``emulation.cloudformation``). They run under both servers; a
#: difference here is reported apart, not as a regression.
_ADD_CHANGE = (
    "CloudFormation lists an Add change with empty Scope and Details (as real answers show, "
    "e.g. ansible/ansible#64571); moto's expected answer has neither"
)
_VALIDATE = (
    "ValidateTemplate refuses a template without Resources with CloudFormation's words "
    "('Template format error: At least one Resources member must be defined.'); moto answers "
    "cfn-lint's first finding as a stack name ('Stack with id ... does not exist'), and a "
    "cfn-lint warning (a deprecated runtime) fails the call"
)
DIFFERS_ON_PURPOSE: dict[str, str] = {
    "tests/test_apigateway/test_apigateway_cloudformation.py"
    "::test_simple_apigateway_with_lambda_proxy": "its function's Code names an S3 object the "
    "test never uploads; Lambda refuses that ('Error occurred while GetObject. S3 Error Code: "
    "NoSuchKey'), so the stack fails as on AWS, where moto makes a function without code",
    "tests/test_cloudformation/test_validate.py::test_json_invalid_missing_resource": _VALIDATE,
    "tests/test_cloudformation/test_validate.py::test_yaml_invalid_missing_resource": _VALIDATE,
    "tests/test_apigateway/test_apigateway_cloudformation.py"
    "::test_apigateway_with_unknown_description": "its template has an "
    "AWS::Cloud9::EnvironmentEC2, which moto does not model; motobox stubs it (and says "
    "so), so Fn::Sub ${UnknownResource} resolves to its id as on CloudFormation, where "
    "moto leaves the text as written",
    "tests/test_cloudformation/test_cloudformation_stack_crud.py"
    "::test_create_change_set_w_previous_template_faillures[no_changes]": "moto refuses an "
    "empty change set with ValidationError 'No updates are to be performed.'; CloudFormation "
    "creates it with Status FAILED and 'The submitted information didn't contain changes...', "
    "which aws cloudformation deploy --no-fail-on-empty-changeset relies on",
    "tests/test_cloudformation/test_cloudformation_stack_crud.py"
    "::test_describe_change_set[stack_template1-change_template1]": _ADD_CHANGE,
    "tests/test_cloudformation/test_cloudformation_stack_crud.py"
    "::test_describe_change_set[stack_template2-change_template2]": _ADD_CHANGE,
    "tests/test_cloudformation/test_cloudformation_stack_crud.py"
    "::test_describe_change_set[stack_template0-change_template0]": _ADD_CHANGE,
    "tests/test_cloudformation/test_cloudformation_depends_on.py"
    "::test_create_chained_depends_on_stack": "its template's Bucket1 DependsOn Bucket0, which "
    "it never defines: CloudFormation refuses it ('Template format error: Unresolved resource "
    "dependencies [Bucket0] in the Resources block of the template'), moto creates the rest",
    "tests/test_cloudformation/test_cloudformation_stack_crud.py"
    "::test_create_stack_with_notification_arn": "CloudFormation notifies the stack's topics of "
    "every event, its resources' included, in order; moto's test expects the stack's own "
    "CREATE_COMPLETE as the second message",
    "tests/test_cloudformation/test_cloudformation_stack_integration.py"
    "::test_invalid_action_type_listener_rule": "an invalid property value fails the resource "
    "(the stack ends ROLLBACK_COMPLETE with the resource's reason), as CloudFormation's resource "
    "handlers do; moto raises it from CreateStack",
    "tests/test_cloudformation/test_cloudformation_stack_crud.py::test_stack_events": "a "
    "stack update ends UPDATE_COMPLETE_CLEANUP_IN_PROGRESS then UPDATE_COMPLETE on "
    "CloudFormation; moto's test counts the stack events of moto's shorter story",
}
PASSING = {"passed", "xfailed"}


# ---------------------------------------------------------------------------------------------
# run: split the tests into lanes, run every lane, compare


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="moto_suite.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run moto's server-mode tests under both servers, compare")
    what = run.add_mutually_exclusive_group(required=True)
    what.add_argument("--services", help=f"comma-separated, e.g. {','.join(SERVICES)}")
    what.add_argument("--ids", type=Path, metavar="FILE", help="test ids, one a line (# comments)")
    run.add_argument("--out", type=Path, required=True, metavar="DIR", help="results go here")
    run.add_argument("--lanes", type=int, default=1, help="lanes per server (default 1)")
    run.add_argument("--servers", default=",".join(SERVERS), help="comma-separated server names")
    run.add_argument("--timeout", type=float, default=3 * 3600, help="seconds for the whole run")
    run.add_argument("--test-timeout", type=float, default=300, help="seconds for one test")
    pick_p = sub.add_parser("pick", help="choose a fixed list of ids from a run's results.json")
    pick_p.add_argument("results", type=Path, help="results.json of a run under moto_server")
    pick_p.add_argument("--always", nargs="*", default=[], metavar="FILE", help="take every test")
    pick_p.add_argument("--count", type=int, default=400, help="how many ids in all")
    pick_p.add_argument("--max-seconds", type=float, default=0.5, help="leave out slower tests")
    pick_p.add_argument("--per-function", type=int, default=2, help="parametrizations kept")
    lane = sub.add_parser("lane", help="internal: one lane, inside its network namespace")
    lane.add_argument("--server", choices=list(SERVERS), required=True)
    lane.add_argument("--record", type=Path, required=True)
    lane.add_argument("--status", type=Path, required=True)
    lane.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "lane":
        return run_lane(args.server, args.record, args.status, args.pytest_args)
    if args.command == "pick":
        outcomes = json.loads(args.results.read_text())["outcomes"]["moto_server"]
        ids = pick(outcomes, args.always, args.count, args.max_seconds, args.per_function)
        print("\n".join(ids))
        return 0
    return run_command(args)


def run_command(args: argparse.Namespace) -> int:
    missing = [p for p in (TESTS_ROOT / "tests", SUITE_PYTHON) if not p.exists()]
    missing += [Path(SERVERS[name][0]) for name in SERVERS if not Path(SERVERS[name][0]).exists()]
    if missing:
        print(f"moto_suite: {missing[0]} is missing; run `make tools`", file=sys.stderr)
        return 2
    servers = [s for s in args.servers.split(",") if s]
    if unknown := [s for s in servers if s not in SERVERS]:
        known = ", ".join(SERVERS)
        print(f"moto_suite: unknown server {unknown[0]!r}; use {known}", file=sys.stderr)
        return 2
    if args.services:
        services = [s.strip() for s in args.services.split(",") if s.strip()]
        targets = [str(p.relative_to(TESTS_ROOT)) for s in services for p in _test_files(s)]
        if not targets:
            print(f"moto_suite: no tests for {args.services}", file=sys.stderr)
            return 2
        ids = None
    else:
        ids = read_ids(args.ids)
        targets = ids
    results = run_suite(
        targets, servers, args.out.resolve(), lanes=args.lanes, timeout=args.timeout,
        test_timeout=args.test_timeout,
    )  # fmt: skip
    if ids is not None:  # an id that never ran is reported, not silently dropped
        for server in servers:
            for test_id in (i for i in ids if "::" in i):
                results["outcomes"][server].setdefault(
                    test_id, {"outcome": "missing", "line": "no outcome recorded", "s": 0}
                )
    summary = compare(results["outcomes"], servers)
    results.update(summary)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(table(results, servers))
    problems = any(lane["problem"] for lane in results["lanes"])
    return 1 if results["regressions"] or problems else 0


def pick(
    outcomes: dict[str, dict[str, Any]],
    always: Sequence[str],
    count: int,
    max_seconds: float,
    per_function: int,
) -> list[str]:
    """A fixed list of ids for ``make test``: every test of the ``always`` files, then from each
    other file an equal share of its tests that passed under moto_server in at most
    ``max_seconds``, with at most ``per_function`` parametrizations of one test function, taken
    evenly spaced in file order so that every part of the file (every operation it covers) is
    sampled. ``outcomes`` is in the order the tests ran, that is file order."""
    chosen = [i for i in outcomes if i.split("::", 1)[0] in always]
    files: dict[str, list[str]] = defaultdict(list)
    per_fn: Counter[str] = Counter()
    for test_id, row in outcomes.items():
        file = test_id.split("::", 1)[0]
        if file in always or row["outcome"] != "passed" or row["s"] > max_seconds:
            continue
        function = test_id.split("[", 1)[0]
        per_fn[function] += 1
        if per_fn[function] <= per_function:
            files[file].append(test_id)
    left = count - len(chosen)
    for n, file in enumerate(sorted(files)):
        share = left // (len(files) - n)
        candidates = files[file]
        step = max(1.0, len(candidates) / share) if share else float("inf")
        taken = [candidates[int(k * step)] for k in range(min(share, len(candidates)))]
        chosen += taken
        left -= len(taken)
    return chosen


def _test_files(service: str) -> list[Path]:
    folder = TESTS_ROOT / "tests" / f"test_{service}"
    return sorted(folder.rglob("test_*.py")) if folder.is_dir() else []


def read_ids(path: Path) -> list[str]:
    """One id a line; blank lines and lines that start with ``#`` are left out (an id itself
    may hold ``#`` or spaces in its parameters)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def shard(targets: Sequence[str], lanes: int) -> list[list[str]]:
    """Split test files (or ids, grouped by their file) into ``lanes`` shares of about equal
    weight: a file's size on disk, or its number of ids. A file never spans two lanes, so its
    module-level fixtures run once."""
    groups: dict[str, list[str]] = defaultdict(list)
    for target in targets:
        groups[target.split("::", 1)[0]].append(target)

    def weight(file: str) -> int:
        items = groups[file]
        return len(items) if "::" in items[0] else (TESTS_ROOT / file).stat().st_size

    bins: list[tuple[int, list[str]]] = [(0, []) for _ in range(max(1, lanes))]
    for file in sorted(groups, key=weight, reverse=True):
        i = min(range(len(bins)), key=lambda k: bins[k][0])
        bins[i] = (bins[i][0] + weight(file), bins[i][1] + groups[file])
    return [items for _, items in bins if items]


def _namespace(argv: list[str]) -> list[str]:
    """``argv`` in a network namespace with only loopback (a user namespace too when not root)."""
    flags = ["--net"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--net"]
    return ["unshare", *flags, "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv]


def run_suite(
    targets: Sequence[str],
    servers: Sequence[str],
    out: Path,
    *,
    lanes: int = 1,
    timeout: float = 3600,
    test_timeout: float = 300,
) -> dict[str, Any]:
    """Run ``targets`` (files or node ids) under each server; outcomes per server and id, in the
    order the tests ran."""
    out.mkdir(parents=True, exist_ok=True)
    pytest_opts = [
        "-p", "moto_suite_plugin", "-p", "no:cacheprovider", "-o", "addopts=", "-vv", "-rN",
        "-m", "not network", f"--timeout={test_timeout:g}",
        *(f"--deselect={test_id}" for test_id in EXCLUDED),
    ]  # fmt: skip
    started = time.monotonic()
    running: list[tuple[str, str, subprocess.Popen[bytes]]] = []
    try:
        for server in servers:
            for n, share in enumerate(shard(targets, lanes), 1):
                name = f"{server}-{n}"
                for suffix in (".jsonl", ".status.json", ".log"):
                    (out / f"{name}{suffix}").unlink(missing_ok=True)
                argv = [
                    sys.executable, __file__, "lane", "--server", server,
                    "--record", str(out / f"{name}.jsonl"),
                    "--status", str(out / f"{name}.status.json"),
                    "--", *pytest_opts, *(str(TESTS_ROOT / target) for target in share),
                ]  # fmt: skip
                print(f"moto_suite: lane {name}: {len(share)} targets, log {out}/{name}.log")
                with open(out / f"{name}.log", "wb") as log:
                    proc = subprocess.Popen(
                        _namespace(argv), stdout=log, stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL, start_new_session=True,
                    )  # fmt: skip
                running.append((name, server, proc))
        for _, _, proc in running:
            try:
                proc.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
            except subprocess.TimeoutExpired:
                pass  # ended below, with its server and pytest (same process group)
    finally:
        for _, _, proc in running:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    lanes_info = []
    outcomes: dict[str, dict[str, Any]] = {server: {} for server in servers}
    for name, server, proc in running:
        status_file = out / f"{name}.status.json"
        status = json.loads(status_file.read_text()) if status_file.exists() else {}
        status.update(lane=name, server=server, exit=proc.returncode)
        status.setdefault("problem", f"the lane ended (exit {proc.returncode}) before it "
                                     f"wrote its status: timeout after {timeout:g} s?")  # fmt: skip
        lanes_info.append(status)
        for row in _read_jsonl(out / f"{name}.jsonl"):
            outcomes[server][row.pop("id")] = row
    return {
        "moto_version": MOTO_VERSION,
        "lanes": lanes_info,
        "seconds": round(time.monotonic() - started, 1),
        "outcomes": outcomes,
    }


def _read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                yield json.loads(line)


def service_of(test_id: str) -> str:
    folder = test_id.split("/", 2)[1] if test_id.startswith("tests/") else test_id
    return folder.removeprefix("test_")


def compare(outcomes: dict[str, dict[str, Any]], servers: Sequence[str]) -> dict[str, Any]:
    """Counts per service and server, and the ids that pass under the reference server
    (moto_server) but not under motobox."""
    counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for server in servers:
        for test_id, row in outcomes[server].items():
            counts[service_of(test_id)][server][row["outcome"]] += 1
    regressions, gains, differs = [], [], []
    if {"moto_server", "motobox"} <= set(servers):
        ref, ours = outcomes["moto_server"], outcomes["motobox"]
        for test_id in sorted(ref):
            mine = ours.get(test_id, {"outcome": "missing", "line": "no outcome recorded"})
            if ref[test_id]["outcome"] in PASSING and mine["outcome"] not in PASSING:
                if test_id in DIFFERS_ON_PURPOSE:
                    differs.append({"id": test_id, **mine, "why": DIFFERS_ON_PURPOSE[test_id]})
                else:
                    regressions.append({"id": test_id, **mine})
        for test_id in sorted(ours):
            theirs = ref.get(test_id, {"outcome": "missing"})
            if ours[test_id]["outcome"] in PASSING and theirs["outcome"] not in PASSING:
                gains.append({"id": test_id, "outcome": theirs["outcome"]})
    return {
        "counts": {svc: {s: dict(c) for s, c in per.items()} for svc, per in counts.items()},
        "regressions": regressions,
        "gains": gains,
        "differs_on_purpose": differs,
    }


def table(results: dict[str, Any], servers: Sequence[str]) -> str:
    """Per service and server: passed (xfailed included), failed, error (ids that left no
    outcome included), skipped; then the ids that pass under moto_server only, and the other
    way round."""
    cols = ["passed", "failed", "error", "skipped"]
    rule = "-" * (16 + 36 * len(servers))
    lines = [
        f"{'service':<16}" + "".join(f"| {s:<33} " for s in servers),
        f"{'':<16}" + "".join("| " + "".join(f"{c:>8}" for c in cols) + " " for _ in servers),
        rule,
    ]
    counts = results["counts"]
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    order = [s for s in SERVICES if s in counts] + sorted(set(counts) - set(SERVICES))
    for svc in order:
        row = f"{svc:<16}"
        for server in servers:
            c = Counter(counts[svc].get(server, {}))
            c["passed"] += c["xfailed"]
            c["error"] += c["missing"]
            totals[server].update(c)
            row += "| " + "".join(f"{c[k]:>8}" for k in cols) + " "
        lines.append(row)
    lines.append(rule)
    lines.append(f"{'total':<16}" + "".join(
        "| " + "".join(f"{totals[s][k]:>8}" for k in cols) + " " for s in servers))  # fmt: skip
    lines.append(f"({results['seconds']:.0f} s)")
    for info in results["lanes"]:
        if info.get("problem"):
            lines.append(f"lane {info['lane']}: {info['problem']}")
    regressions = results["regressions"]
    lines.append(f"\npass under moto_server but not under motobox: {len(regressions)}")
    lines += [f"  {r['id']}\n      {r['outcome']}: {r['line']}" for r in regressions]
    if results.get("differs_on_purpose"):
        differs = results["differs_on_purpose"]
        lines.append(f"differ on purpose (motobox answers as CloudFormation does): {len(differs)}")
        lines += [f"  {d['id']}\n      {d['why']}" for d in differs]
    if results["gains"]:
        lines.append(f"pass under motobox but not under moto_server: {len(results['gains'])}")
        lines += [f"  {g['id']} ({g['outcome']} under moto_server)" for g in results["gains"]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# lane: inside its own network namespace


def run_lane(server: str, record: Path, status_file: Path, pytest_args: list[str]) -> int:
    """Start ``server`` on port 5000, run pytest, stop the server; write the lane's status. The
    server stays in the lane's process group, so a lane ended from outside takes it along."""
    args = pytest_args[1:] if pytest_args[:1] == ["--"] else pytest_args
    status: dict[str, Any] = {"problem": None}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "TEST_"))}
    started = time.monotonic()
    srv = subprocess.Popen(
        SERVERS[server], env={**env, **SERVER_ENV}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log_tail: list[str] = []
    threading.Thread(target=_drain, args=(srv, log_tail), daemon=True).start()
    try:
        if not _wait_ready(srv, 60):
            status["problem"] = f"{server} did not answer on port {PORT} within 60 s"
            return 1
        status["server_start_s"] = round(time.monotonic() - started, 2)
        client_env = {**env, **CLIENT_ENV, "MOTO_SUITE_RECORD": str(record)}
        client_env["PYTHONPATH"] = str(Path(__file__).parent)  # for -p moto_suite_plugin
        print(f"== {server} on port {PORT}: pytest", flush=True)
        # Some tests write files into the working folder (s3's rb.tmp): each lane has its own,
        # and pytest is told where moto's tests are rooted.
        workdir = record.with_suffix(".cwd")
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        done = subprocess.run(
            [str(SUITE_PYTHON), "-m", "pytest", "--rootdir", str(TESTS_ROOT),
             "-c", str(TESTS_ROOT / "pyproject.toml"), *args],
            cwd=workdir, env=client_env, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
        status["pytest_exit"] = done.returncode
        if srv.poll() is not None:
            status["problem"] = f"{server} exited with {srv.returncode} during the run"
        elif done.returncode not in (0, 1):  # 1: some tests failed
            status["problem"] = f"pytest exited with {done.returncode}"
        return 0
    finally:
        if srv.poll() is None:
            srv.terminate()
            try:
                srv.wait(10)
            except subprocess.TimeoutExpired:
                srv.kill()
                srv.wait()
        status["seconds"] = round(time.monotonic() - started, 1)
        status["server_log_tail"] = log_tail[-20:]
        status_file.write_text(json.dumps(status, indent=1))


def _wait_ready(srv: subprocess.Popen[bytes], seconds: float) -> bool:
    """True once the server answers POST /moto-api/reset (every test calls it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and srv.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", PORT), timeout=1):
                pass
            req = urllib.request.Request(f"http://127.0.0.1:{PORT}/moto-api/reset", method="POST")
            with urllib.request.urlopen(req, timeout=5) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def _drain(srv: subprocess.Popen[bytes], tail: list[str]) -> None:
    """Read the server's output (a full pipe would stall it), keeping the last lines."""
    assert srv.stdout is not None
    for raw in srv.stdout:
        tail.append(raw.decode(errors="replace").rstrip())
        if len(tail) > 200:
            del tail[:100]


if __name__ == "__main__":
    sys.exit(main())
