"""taskcat 0.9.58, unmodified, in its own virtualenv, under ``motobox run``."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT, TASKCAT, motobox, ops, read_journal, require

PROJECT = ROOT / "examples" / "taskcat-project"


def test_taskcat_creates_and_deletes_the_stack_against_the_embedded_cloud(tmp_path: Path) -> None:
    require(TASKCAT)
    journal = tmp_path / "calls.jsonl"
    out = tmp_path / "outputs"
    done = motobox(
        ["run", "--journal", str(journal), "--", str(TASKCAT), "test", "run", "-o", str(out)],
        cwd=PROJECT,
        isolated=True,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    created, deleted = log.find("CREATE_COMPLETE"), log.find("DELETE_COMPLETE")
    assert 0 <= created < deleted, log[-3000:]

    records = read_journal(journal)
    called = ops(records)
    for op in (
        "cloudformation:CreateStack",
        "cloudformation:DescribeStacks",
        "cloudformation:DeleteStack",
        "s3:PutObject",
    ):
        assert op in called, f"{op} not in {called}"
    assert all(
        r["status"] < 400 for r in records if r["kind"] == "aws" and r["operation"] == "PutObject"
    )
    css = [
        r for r in records if r["kind"] == "egress" and r["url"].endswith("taskcat_reporting.css")
    ]
    assert css and css[0]["action"] == "deny" and css[0]["status"] == 403
    create = next(r for r in records if r.get("operation") == "CreateStack")
    assert create["region"] == "ca-central-1"
    assert (out / "index.html").exists()
