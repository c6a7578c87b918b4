"""The taskcat Action (action.yml + taskcat_action), run by ``motobox action`` the way the GitHub
runner runs it: taskcat inside is a black box, motobox forces AWS's answers, and everything runs
in a network namespace with loopback only (the tool cache was filled by ``make tools``).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import ROOT, TOOLS, motobox, read_journal, require

TOOL_CACHE = TOOLS / "toolcache"
WHEELHOUSE = TOOLS / "wheelhouse"
SCENARIOS = ROOT / "scenarios" / "taskcat"
PROJECT = ROOT / "examples" / "taskcat-project"
ACCOUNT = "210987654321"


def _env(home: Path) -> dict[str, str]:
    """No AWS settings and an empty home: nothing of the machine's can leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INPUT_"))}
    env["HOME"] = str(home)
    return env


def _action(
    tmp_path: Path,
    *args: str,
    inputs: dict[str, str],
    extra_env: dict[str, str] | None = None,
    stale_report: bool = False,
) -> tuple[int, str, Path]:
    require(TOOL_CACHE / ".stamp")
    workspace = tmp_path / "ws"
    shutil.copytree(PROJECT, workspace, ignore=shutil.ignore_patterns("taskcat_outputs"))
    if stale_report:  # left by an earlier run: says nothing about this one
        index = workspace / "taskcat_outputs" / "index.html"
        index.parent.mkdir()
        index.write_text("<html>an old report</html>")
        os.utime(index, (time.time() - 86400, time.time() - 86400))
    home = tmp_path / "home"
    home.mkdir()
    argv = ["action", str(ROOT), "--workspace", str(workspace), "--tool-cache", str(TOOL_CACHE)]
    for name, value in inputs.items():
        argv += ["--input", f"{name}={value}"]
    env = {**_env(home), **(extra_env or {})}
    done = motobox([*argv, *args], env=env, isolated=True, timeout=400)
    return done.returncode, done.stdout + done.stderr, workspace


def _action_exit(log: str) -> int:
    """The Action's own exit code, from the report (motobox's exit code is the scenario's
    verdict when the scenario has expectations)."""
    report = log.split("== motobox action: the Action's answer", 1)[1]
    return int(report.split("exit code", 1)[1].split()[0])


def _outputs(log: str) -> dict[str, str]:
    report = log.split("== motobox action: the Action's answer", 1)[1]
    section = report.split("\noutputs\n", 1)[1].split("\nannotations", 1)[0]
    pairs = (line.strip().partition("=") for line in section.splitlines())
    return {name.strip(): value.strip() for name, _, value in pairs}


def _summary_rows(log: str) -> list[list[str]]:
    summary = log.split("\nsummary\n", 1)[1]
    rows = [line.strip() for line in summary.splitlines() if line.strip().startswith("| ")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]


def test_create_complete_passes_with_summary_and_artifact(tmp_path: Path) -> None:
    code, log, ws = _action(
        tmp_path,
        "--scenario",
        str(SCENARIOS / "create-complete.yaml"),
        inputs={"commands": "test run"},
    )
    assert code == 0, log
    assert _outputs(log)["result"] == "passed"
    assert _outputs(log)["report"] == str(ws / "taskcat_outputs" / "index.html")
    rows = _summary_rows(log)
    assert rows and all(r[3] == "CREATE_COMPLETE" for r in rows), rows
    artifact = ws / ".motobox-artifacts" / "taskcat_outputs"
    assert (artifact / "index.html").is_file()
    assert list(artifact.glob("*-cfnlogs.txt"))
    assert "taskcat_outputs: 2 files in .motobox-artifacts/taskcat_outputs" in log


def test_create_failed_in_another_account_masks_it_everywhere(tmp_path: Path) -> None:
    code, log, ws = _action(
        tmp_path,
        "--scenario",
        str(SCENARIOS / "create-failed.yaml"),
        "--account",
        ACCOUNT,
        inputs={"commands": "test run"},
    )
    assert code == 0, log  # the scenario's expectations hold
    assert _action_exit(log) == 1
    assert _outputs(log)["result"] == "failed"
    errors = [line for line in log.splitlines() if line.startswith("Error: taskcat test bucket")]
    assert errors and "is not authorized to perform: s3:CreateBucket" in errors[0], log
    assert "Error: The taskcat test did not complete successfully." in log
    assert [r[3] for r in _summary_rows(log)] == ["CREATE_FAILED"]
    artifact = ws / ".motobox-artifacts" / "taskcat_outputs"
    files = [p for p in artifact.rglob("*") if p.is_file()]
    assert files, "the artifact is uploaded even though the test failed"
    assert ACCOUNT not in log
    assert not [p for p in files if ACCOUNT in p.read_text(errors="replace")]
    cfnlogs = next(artifact.glob("*-cfnlogs.txt")).read_text()
    assert "arn:aws:sts::***:assumed-role/taskcat-deploy/motobox" in cfnlogs
    assert "masked       1 value" in log


def test_no_credentials_fails_with_botocores_message(tmp_path: Path) -> None:
    code, log, _ = _action(
        tmp_path,
        "--scenario",
        str(SCENARIOS / "no-credentials.yaml"),
        inputs={"commands": "test run"},
        stale_report=True,
    )
    assert code == 0, log
    assert _action_exit(log) == 1
    assert "NoCredentialsError Unable to locate credentials" in log
    assert _outputs(log) == {"result": "failed", "report": ""}


def test_help_prints_taskcats_help(tmp_path: Path) -> None:
    code, log, _ = _action(tmp_path, "--cloud", inputs={"commands": "--help"})
    assert code == 0, log
    assert "taskcat is a tool that tests AWS CloudFormation templates." in log


def test_newer_version_is_announced_without_updating(tmp_path: Path) -> None:
    code, log, _ = _action(
        tmp_path,
        "--scenario",
        str(SCENARIOS / "newer-version.yaml"),
        inputs={"commands": "test run", "update_taskcat": "false"},
    )
    assert code == 0, log
    assert "A newer version of taskcat is available" in log
    assert "Upgrading" not in log


@pytest.mark.parametrize("value", ["yes", ""])
def test_update_taskcat_with_a_non_boolean_fails_naming_the_input(
    tmp_path: Path, value: str
) -> None:
    code, log, _ = _action(
        tmp_path, "--cloud", inputs={"commands": "test run", "update_taskcat": value}
    )
    assert code != 0
    assert 'Error: Input does not meet YAML 1.2 "Core Schema" specification: update_taskcat' in log
    assert _outputs(log)["result"] == "failed"


def test_update_flags_upgrade_from_the_wheelhouse_with_progress(tmp_path: Path) -> None:
    """update_taskcat and update_cfn_lint run pip in the tool cache's taskcat venv, here with
    the index off and the wheels `make tools` downloaded."""
    require(WHEELHOUSE / ".stamp")
    pip = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE)}
    code, log, _ = _action(
        tmp_path,
        "--cloud",
        inputs={"commands": "--version", "update_taskcat": "True", "update_cfn_lint": "TRUE"},
        extra_env=pip,
    )
    assert code == 0, log
    assert "Upgrading taskcat, cfn-lint" in log
    assert "pip: Requirement already satisfied: taskcat" in log
    assert "pip: Requirement already satisfied: cfn-lint" in log


def test_mock_true_needs_no_credentials_anywhere(tmp_path: Path) -> None:
    """No --scenario, no --cloud: the Action itself runs taskcat under motobox."""
    code, log, ws = _action(tmp_path, inputs={"commands": "test run", "mock": "true"})
    assert code == 0, log
    assert _outputs(log)["result"] == "passed"
    assert [r[3] for r in _summary_rows(log)] == ["CREATE_COMPLETE"]
    journal = read_journal(ws / "taskcat_outputs" / "motobox-journal.jsonl")
    operations = {f"{r['service']}:{r['operation']}" for r in journal if r["kind"] == "aws"}
    assert "cloudformation:CreateStack" in operations
    # The journal travels with the artifact.
    assert (ws / ".motobox-artifacts" / "taskcat_outputs" / "motobox-journal.jsonl").is_file()


def test_a_scenario_with_expectations_is_a_test_of_the_action(tmp_path: Path) -> None:
    """create-complete expects a stack; `taskcat --version` makes none: motobox exits 1 and
    says which expectation failed and what the journal holds."""
    code, log, _ = _action(
        tmp_path,
        "--scenario",
        str(SCENARIOS / "create-complete.yaml"),
        inputs={"commands": "--version"},
    )
    assert code == 1
    assert _action_exit(log) == 0
    assert "FAIL calls cloudformation:CreateStack: at least 1: saw 0 calls" in log
    assert "expectations hold; " in log and " failed" in log
