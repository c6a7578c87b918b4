"""Rules that change while the cloud runs: over HTTP on the cloud's port (curl, the program
itself), from Python (``cloud.rules``), from the pytest fixture and a cloud shared by several
tests, and for a run attached to a cloud that ``motobox serve`` runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import botocore.config
import botocore.exceptions
import pytest

from conftest import AWS_CLI, MOTOBOX, ROOT, motobox, offline, read_journal, require
from motobox import Cloud
from motobox.errors import UsageError
from motobox.scenario.load import ScenarioError

ONE = botocore.config.Config(retries={"total_max_attempts": 1})
DENIED = {
    "match": {"operation": "sts:GetCallerIdentity"},
    "error": {"code": "AccessDenied", "message": "denied while it runs", "status": 403},
}
RESET = {"match": {"operation": "sts:GetCallerIdentity"}, "reset": "before"}

LOOP = """
import os, sys, boto3, botocore.config, botocore.exceptions
print(os.environ["AWS_ENDPOINT_URL"], flush=True)
sts = boto3.client("sts", config=botocore.config.Config(retries={"total_max_attempts": 1}))
for _ in sys.stdin:
    try:
        print("ok", sts.get_caller_identity()["Account"], flush=True)
    except botocore.exceptions.ClientError as e:
        print("error", e.response["Error"]["Code"], flush=True)
    except botocore.exceptions.BotoCoreError as e:
        print("failed", type(e).__name__, flush=True)
"""


def _curl(*args: str) -> tuple[str, int]:
    """curl's body and the HTTP status it reports."""
    done = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    body, _, status = done.stdout.rpartition("\n")
    return body, int(status)


def test_rules_added_over_http_change_a_running_programs_next_call(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    program = subprocess.Popen(
        [*MOTOBOX, "run", "--journal", str(journal), "--", sys.executable, "-c", LOOP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert program.stdin and program.stdout
    url = program.stdout.readline().strip()
    rules = f"{url}/_motobox/rules"

    def call() -> str:
        assert program.stdin and program.stdout
        program.stdin.write("call\n")
        program.stdin.flush()
        return program.stdout.readline().strip()

    try:
        assert call() == "ok 123456789012"
        body, status = _curl("-d", json.dumps(DENIED), rules)
        assert status == 201 and json.loads(body)["sources"] == ["live:1#rules[0]"]
        assert call() == "error AccessDenied"
        body, status = _curl("-d", json.dumps(RESET), rules)
        assert (status, json.loads(body)["id"]) == (201, "2")
        assert call() == "failed ConnectionClosedError"  # the most recent change first
        body, status = _curl(rules)
        listed = json.loads(body)
        assert status == 200 and [c["id"] for c in listed] == ["2", "1"]
        assert listed[0]["counts"] == {"live:2#rules[0]": {"seen": 1, "fired": 1}}
        assert _curl("-X", "DELETE", f"{rules}/2")[1] == 200
        assert call() == "error AccessDenied"
        body, status = _curl("-X", "DELETE", f"{rules}/1")
        assert (status, json.loads(body)["fired"]) == (200, {"live:1#rules[0]": 2})
        assert call() == "ok 123456789012"
        body, status = _curl("-X", "DELETE", f"{rules}/1")
        assert status == 404 and "no rule change '1' in force" in json.loads(body)["error"]
    finally:
        program.stdin.close()
        assert program.wait(60) == 0
    records = read_journal(journal)
    story = [
        r["change"] if r["kind"] == "control" else (r["status"], r["forced"])
        for r in records
        if r["kind"] in ("control", "aws")
    ]
    assert story == [
        (200, None),
        "add",
        (403, "live:1#rules[0]"),
        "add",
        (0, "live:2#rules[0]"),
        "remove",
        (403, "live:1#rules[0]"),
        "remove",
        (200, None),
    ]
    assert {r["via"] for r in records if r["kind"] == "control"} == {"http"}


def test_a_bad_change_gets_400_and_one_line_as_the_scenario_loader_writes_it() -> None:
    with Cloud() as cloud:
        rules = f"{cloud.endpoint_url}/_motobox/rules"
        body, status = _curl("-d", '{"match": ', rules)
        assert status == 400 and len(body.splitlines()) == 1
        assert json.loads(body)["error"] == (
            "_motobox/rules:1:11: JSON: Expecting value; send a rule as JSON, e.g. "
            '{"match": {"operation": "sts:GetCallerIdentity"}, "error": {"code": "Throttling"}}'
        )
        typo = '{"match": {"operation": "sts:GetCallerIdentty"}, "reset": "befor"}'
        body, status = _curl("-d", typo, rules)
        assert status == 400
        assert json.loads(body)["problems"] == [
            "_motobox/rules:1:59: rules.0.reset: 'befor' is not one of before, after; "
            "did you mean 'before'?",
            "_motobox/rules:1:25: sts has no operation 'GetCallerIdentty'; "
            "did you mean 'GetCallerIdentity'?",
        ]
        body, status = _curl("-d", '{"setup": []}', rules)
        assert status == 400 and "setup cannot change while the cloud runs" in body
        assert cloud.rules.list() == []
        assert not [r for r in cloud.journal.records if r["kind"] == "control"]


def test_the_python_api_adds_lists_and_removes_rules_and_the_journal_records_each_change() -> None:
    with Cloud() as cloud:
        sts = cloud.client("sts", config=ONE)
        with cloud.rules.add(DENIED) as change:
            assert change.sources == ["live:1#rules[0]"]
            with pytest.raises(botocore.exceptions.ClientError, match="denied while it runs"):
                sts.get_caller_identity()
        assert sts.get_caller_identity()["Account"] == "123456789012"
        named = cloud.rules.add({"name": "flaky-sts", "rules": [{**RESET, "times": 1}]})
        assert cloud.rules.list()[0]["sources"] == ["flaky-sts#rules[0]"]
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            sts.get_caller_identity()
        assert sts.get_caller_identity()["Account"] == "123456789012"  # times: 1
        named.remove()
        named.remove()  # once only
        assert cloud.rules.list() == []
        with pytest.raises(ScenarioError) as bad:
            cloud.rules.add({"match": {"operation": "sts:GetCallerIdentity"}, "hang": "yes"})
        assert bad.value.problems == [
            "cloud.rules.add:1:59: rules.0.hang must be true, not a string ('yes')"
        ]
        with pytest.raises(UsageError, match="no rule change '9' in force"):
            cloud.rules.remove("9")
        controls = [
            (r["change"], r["id"], r["via"])
            for r in cloud.journal.records
            if r["kind"] == "control"
        ]
        assert controls == [
            ("add", "1", "python"),
            ("remove", "1", "python"),
            ("add", "2", "python"),
            ("remove", "2", "python"),
        ]
        forced = [r["forced"] for r in cloud.journal.calls("sts:GetCallerIdentity")]
        assert forced == ["live:1#rules[0]", None, "flaky-sts#rules[0]", None]


def test_live_rules_come_before_the_scenarios(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "rules:\n"
        '  - match: {operation: "sts:GetCallerIdentity"}\n'
        "    error: {code: ExpiredToken, status: 403}\n"
        "egress:\n"
        "  - host: stub.example\n"
        "    body: from the scenario\n"
    )
    with Cloud(scenarios=[scenario]) as cloud:
        sts = cloud.client("sts", config=ONE)
        with pytest.raises(botocore.exceptions.ClientError, match="ExpiredToken"):
            sts.get_caller_identity()
        with cloud.rules.add(
            {"rules": [DENIED], "egress": [{"host": "stub.example", "body": "live"}]}
        ):
            with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
                sts.get_caller_identity()
            got = subprocess.run(
                ["curl", "-sS", "--proxy", cloud.proxy_url, "http://stub.example/"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert got.stdout == "live"
        with pytest.raises(botocore.exceptions.ClientError, match="ExpiredToken"):
            sts.get_caller_identity()
        got = subprocess.run(
            ["curl", "-sS", "--proxy", cloud.proxy_url, "http://stub.example/"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert got.stdout == "from the scenario"


SELF_SERVICE = """
import json, os, urllib.request, boto3, botocore.config, botocore.exceptions
rules = os.environ["AWS_ENDPOINT_URL"] + "/_motobox/rules"
rule = {"match": {"operation": "sts:GetCallerIdentity"}, "error": {"code": "AccessDenied"}}
added = json.load(urllib.request.urlopen(rules, json.dumps(rule).encode()))
sts = boto3.client("sts", config=botocore.config.Config(retries={"total_max_attempts": 1}))
try:
    sts.get_caller_identity()
except botocore.exceptions.ClientError as e:
    print("with the rule:", e.response["Error"]["Code"])
urllib.request.urlopen(urllib.request.Request(rules + "/" + added["id"], method="DELETE"))
print("without it:", sts.get_caller_identity()["Account"])
"""


def test_the_program_under_test_reaches_the_control_api_itself(tmp_path: Path) -> None:
    done = motobox(["run", "--", sys.executable, "-c", SELF_SERVICE], isolated=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "with the rule: AccessDenied",
        "without it: 123456789012",
    ]


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    (shared,) = [b for b in blocks if 'scope="module"' in b]
    return shared


def test_the_readmes_shared_cloud_example_passes_under_pytest(tmp_path: Path) -> None:
    """The README's example: one cloud shared by several tests, a fault forced in one of them,
    and the per-test fixture taking rules as well."""
    (tmp_path / "test_shared.py").write_text(_readme_example())
    done = subprocess.run(
        offline([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b4 passed\b", done.stdout), done.stdout


ATTACHED = """
name: brought by an attached run
rules:
  - match: {operation: "sts:GetCallerIdentity"}
    error: {code: AccessDenied, message: "only for this run", status: 403}
egress:
  - host: stub.example
    body: stubbed for this run
"""

SCRIPT = """
set -e
eval "$(motobox serve --detach --journal "$WORK/cloud.jsonl")"
trap 'eval "$(motobox stop)" >/dev/null 2>&1 || true' EXIT   # stopped even when a step fails
motobox run --scenario "$WORK/attached.yaml" --journal "$WORK/run.jsonl" -- sh -c \\
  'aws sts get-caller-identity || echo "sts $?"; curl -sS https://stub.example/; echo'
echo "after: $(aws sts get-caller-identity --query Account --output text)"
echo "rules: $(curl -s "$MOTOBOX_CLOUD/_motobox/rules")"
eval "$(motobox stop)"
"""


def test_a_run_attached_to_a_served_cloud_brings_its_rules_for_its_duration(
    tmp_path: Path,
) -> None:
    aws = Path(require(AWS_CLI))
    (tmp_path / "attached.yaml").write_text(ATTACHED)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTOBOX_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(aws.parent), env["PATH"]])
    env["WORK"] = str(tmp_path)
    done = subprocess.run(
        offline(["bash", "-c", SCRIPT]), env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines == ["sts 255", "stubbed for this run", "after: 123456789012", "rules: []"]
    assert "(AccessDenied) when calling the GetCallerIdentity operation: only for this run" in (
        done.stderr
    )
    assert "control API at $MOTOBOX_CLOUD/_motobox/" in done.stderr
    scenario = str(tmp_path / "attached.yaml")
    run = read_journal(tmp_path / "run.jsonl")
    assert [r["forced"] for r in run if r["kind"] == "aws"] == [f"{scenario}#rules[0]"]
    assert [r["forced"] for r in run if r["kind"] == "egress"] == [f"{scenario}#egress[0]"]
    whole = read_journal(tmp_path / "cloud.jsonl")
    controls = [(r["change"], r.get("name")) for r in whole if r["kind"] == "control"]
    assert controls == [("add", scenario), ("remove", None)]


def test_motobox_serve_prints_how_to_reach_the_control_api() -> None:
    serve = subprocess.Popen(
        [*MOTOBOX, "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTOBOX_"))},
    )
    assert serve.stderr
    try:
        first = serve.stderr.readline()  # the cloud answers: what serve says comes with it
    finally:
        serve.terminate()
    rest = serve.stderr.read()  # to its end: serve has stopped
    serve.wait(30)
    lines = [first, *rest.splitlines(), ""]
    url = re.search(r"cloud at (http://127\.0\.0\.1:\d+)", lines[0])
    assert url, lines
    assert lines[1].startswith(f"# motobox: control API at {url.group(1)}/_motobox/ ")
    assert f"curl -X DELETE {url.group(1)}/_motobox/rules/ID" in lines[1]
