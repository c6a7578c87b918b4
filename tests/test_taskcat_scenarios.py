"""The ready taskcat scenarios, each run with the real taskcat 0.9.58 on two projects.

``motobox run --scenario F -- taskcat test run`` is itself a test: it exits 0 when the
scenario's ``expect:`` holds. These tests also check taskcat's own output and the journal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, TASKCAT, motobox, read_journal, require

SCENARIOS = ROOT / "scenarios" / "taskcat"
PROJECTS = [ROOT / "examples" / "taskcat-project", ROOT / "examples" / "taskcat-multi"]


def _run(scenario: str, project: Path, tmp_path: Path) -> tuple[str, list[dict], Path]:
    require(TASKCAT)
    journal, out = tmp_path / "j.jsonl", tmp_path / "outputs"
    done = motobox(
        [
            "run",
            "--scenario",
            str(SCENARIOS / f"{scenario}.yaml"),
            "--journal",
            str(journal),
            "--",
            str(TASKCAT),
            "test",
            "run",
            "-o",
            str(out),
        ],
        cwd=project,
        isolated=True,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"expectations failed:\n{log[-4000:]}"
    assert "expectations hold" in done.stderr
    return log, read_journal(journal), out


def _aws(records: list[dict], operation: str) -> list[dict]:
    service, op = operation.split(":")
    return [
        r for r in records if r["kind"] == "aws" and (r["service"], r["operation"]) == (service, op)
    ]


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_create_complete(project: Path, tmp_path: Path) -> None:
    log, records, out = _run("create-complete", project, tmp_path)
    assert log.find("CREATE_COMPLETE") < log.find("DELETE_COMPLETE")
    creates = _aws(records, "cloudformation:CreateStack")
    assert creates and len(creates) == len(_aws(records, "cloudformation:DeleteStack"))
    css = [r for r in records if r["kind"] == "egress" and r["url"].endswith(".css")]
    assert css[0]["action"] == "stub" and css[0]["forced"].endswith("base.yaml#egress[0]")
    assert "served by motobox" in (out / "index.html").read_text()


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_create_failed(project: Path, tmp_path: Path) -> None:
    log, records, out = _run("create-failed", project, tmp_path)
    assert "CREATE_FAILED" in log
    for create in _aws(records, "cloudformation:CreateStack"):
        assert create["forced"].endswith("create-failed.yaml#rules[0]")
    logs = list(out.glob("*-cfnlogs.txt"))
    # The forced reason, with the account and region of each stack put in.
    assert logs and all(
        "arn:aws:sts::123456789012:assumed-role/taskcat-deploy/motobox" in p.read_text()
        and "Request ID: MOTOBOX0FORCED0" in p.read_text()
        for p in logs
    )
    # The deletion agrees: the stacks are gone, and taskcat did not wait for a time-out.
    assert _aws(records, "cloudformation:DeleteStack")


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_no_credentials(project: Path, tmp_path: Path) -> None:
    log, records, _ = _run("no-credentials", project, tmp_path)
    assert "NoCredentialsError Unable to locate credentials" in log
    assert not [r for r in records if r["kind"] == "aws"]


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_access_denied(project: Path, tmp_path: Path) -> None:
    log, records, _ = _run("access-denied", project, tmp_path)
    assert "AccessDenied" in log and "is not authorized to perform" in log
    creates = _aws(records, "cloudformation:CreateStack")
    assert creates and all(r["error"] == "AccessDenied" and r["status"] == 403 for r in creates)


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_throttled_then_ok(project: Path, tmp_path: Path) -> None:
    log, records, _ = _run("throttled-then-ok", project, tmp_path)
    describes = _aws(records, "cloudformation:DescribeStacks")
    throttled = [r for r in describes if r["error"] == "Throttling"]
    assert len(throttled) == 3 and all(r["forced"] for r in throttled)
    assert any(r["status"] == 200 for r in describes)
    assert "CREATE_COMPLETE" in log


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_newer_version(project: Path, tmp_path: Path) -> None:
    log, records, _ = _run("newer-version", project, tmp_path)
    assert "A newer version of taskcat is available" in log
    pypi = [r for r in records if r["kind"] == "egress" and "pypi.org" in r["url"]]
    assert pypi[0]["forced"].endswith("newer-version.yaml#egress[0]")


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_reset_before_create_is_retried_by_botocore_and_the_test_completes(
    project: Path, tmp_path: Path
) -> None:
    log, records, _ = _run("reset-before-create", project, tmp_path)
    reset = next(r for r in _aws(records, "cloudformation:CreateStack") if r["forced"])
    assert (reset["status"], reset["transport"]["when"]) == (0, "before")
    (retry,) = [  # taskcat creates stacks in threads: the retry is the next of the same stack
        r
        for r in _aws(records, "cloudformation:CreateStack")
        if r["params"]["StackName"] == reset["params"]["StackName"]
        and r["region"] == reset["region"]
        and r is not reset
    ]
    assert retry["status"] == 200 and retry["forced"] is None and retry["seq"] > reset["seq"]
    assert "CREATE_COMPLETE" in log and "DELETE_COMPLETE" in log
    deleted = {
        r["params"]["StackName"].split("/")[1] for r in _aws(records, "cloudformation:DeleteStack")
    }
    assert reset["params"]["StackName"] in deleted


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_reset_after_create_meets_already_exists_and_taskcat_leaves_the_stack_behind(
    project: Path, tmp_path: Path
) -> None:
    log, records, _ = _run("reset-after-create", project, tmp_path)
    reset = next(r for r in _aws(records, "cloudformation:CreateStack") if r["forced"])
    name = reset["params"]["StackName"]
    assert (reset["status"], reset["transport"]["when"], reset["transport"]["backend_status"]) == (
        0,
        "after",
        200,
    )
    retries = [
        r
        for r in _aws(records, "cloudformation:CreateStack")
        if r["params"]["StackName"] == name and r["region"] == reset["region"]
    ]
    assert [r["error"] for r in retries] == [None, "AlreadyExistsException"]
    assert f"Stack {name} already exists" in log
    # taskcat deletes a placeholder, never the stack the first call made: it is left behind.
    deleted = [r["params"]["StackName"] for r in _aws(records, "cloudformation:DeleteStack")]
    assert (
        f"arn:aws:cloudformation:{reset['region']}:account:stack/FailedToLaunch/FailedToLaunch"
        in (deleted)
    )
    assert not [d for d in deleted if f":{reset['region']}:" in d and f"/{name}/" in d]
    made = [
        r
        for r in records
        if r["kind"] == "cfn" and r.get("stack") == name and r.get("region") == reset["region"]
    ]
    assert [r.get("status") for r in made] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
