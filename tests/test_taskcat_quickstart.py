"""Real taskcat 0.9.58 on a project shaped like the public quickstarts motobox was checked on
(``tests/projects/quickstart``): nested stacks from the project's own bucket in three Regions,
Lambda-backed custom resources (inline Python with cfnresponse; one that calls S3 with boto3
and answers with its own PUT), AWS::NoValue in lists, maps and properties, dynamic
references to the cloud's SSM (a parameter of the parent stack, a public AMI parameter),
types moto does not model with outputs that use them. Offline, in a copy of the project."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from conftest import AWS_CLI, ROOT, TASKCAT, motobox, read_journal, require
from taskcat_action.report import read_results

PROJECT = ROOT / "tests" / "projects" / "quickstart"
BASE = ROOT / "scenarios" / "taskcat" / "base.yaml"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")

#: taskcat keeps the stacks (-n) so their outputs can be read, then deletes them as a user
#: would with `taskcat test clean`.
PROGRAM = """
taskcat=$1 aws=$2 out=$3
"$taskcat" test run -n -o "$out"
code=$?
for region in us-east-1 eu-west-1 ap-southeast-2; do
  "$aws" cloudformation describe-stacks --region "$region" --output json > "stacks-$region.json"
done
"$taskcat" test clean quickstart -w || exit 70
exit $code
"""


def test_taskcat_runs_a_quickstart_shaped_project_in_three_regions(tmp_path: Path) -> None:
    taskcat, aws = require(TASKCAT), require(AWS_CLI)
    project = tmp_path / "project"  # taskcat writes into the project (.taskcat/)
    shutil.copytree(PROJECT, project)
    journal, out = tmp_path / "journal.jsonl", tmp_path / "outputs"
    done = motobox(
        ["run", "--scenario", str(BASE), "--journal", str(journal), "--"]
        + ["sh", "-c", PROGRAM, "sh", taskcat, aws, str(out)],
        cwd=project,
        isolated=True,
        timeout=600,
    )
    log = done.stdout + done.stderr
    assert "ResponseParserError" not in log and "the backend failed" not in log, log[-3000:]
    assert done.returncode == 0, log[-3000:]

    # Each test in each Region: CREATE_COMPLETE, as taskcat's report says.
    results = {(r.test, r.region): r.status for r in read_results(out)}
    assert results == {
        **{("complete", region): "CREATE_COMPLETE" for region in REGIONS},
        ("minimal", "eu-west-1"): "CREATE_COMPLETE",
    }

    # The outputs, read before the stacks were deleted.
    stacks = {
        region: json.loads((project / f"stacks-{region}.json").read_text())["Stacks"]
        for region in REGIONS
    }
    for region in REGIONS:
        tests = {"complete", "minimal"} if region == "eu-west-1" else {"complete"}
        parents = {s["StackName"].split("-")[2]: s for s in stacks[region] if "ParentId" not in s}
        assert set(parents) == tests
        for test, stack in parents.items():
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
            owner = "platform" if test == "complete" else "shared"
            assert outputs["AppName"] == f"{owner}-{region}"  # ssm reference, cfnresponse
            assert re.fullmatch(r"vpc-[0-9a-f]{17}", outputs["VPCID"])
            assert re.fullmatch(r"dopt-[0-9a-f]{17}", outputs["DHCPOptionsID"])  # a stub's id
            assert re.fullmatch(r"s3://[a-z0-9-]+-configbucket-[a-z0-9]+/config\.json",
                                outputs["ConfigObject"])  # fmt: skip
            assert re.fullmatch(r"ami-[0-9a-f]{8,17}", outputs["ImageId"])  # public parameter
            assert outputs["MetricFilter"]  # a stub's Ref
        children = [s for s in stacks[region] if "ParentId" in s]
        assert len(children) == 2 * len(tests)
        assert {s["StackStatus"] for s in stacks[region]} == {"CREATE_COMPLETE"}
        vpcs = [s for s in children if "-VPCStack-" in s["StackName"]]
        nat = {"NATGatewayID" in {o["OutputKey"] for o in s["Outputs"]} for s in vpcs}
        assert nat == ({True, False} if region == "eu-west-1" else {True})  # a conditional output

    # What moto does not emulate, in the journal and in motobox's last lines.
    records = read_journal(journal)
    stubbed = {(r["stack"], r["type"]) for r in records if r.get("emulation") == "stubbed"}
    assert {t for _, t in stubbed} == {
        "AWS::EC2::DHCPOptions",
        "AWS::EC2::VPCDHCPOptionsAssociation",
        "AWS::Logs::MetricFilter",
    }
    summary = [line for line in done.stderr.splitlines() if "not emulated by moto" in line]
    vpc_lines = [line for line in summary if "-VPCStack-" in line]
    app_lines = [line for line in summary if "-AppStack-" in line]
    assert len(vpc_lines) == len(app_lines) == 4 and len(summary) == 8, summary
    assert sorted(re.sub(r"stack \S+:", "stack X:", line) for line in vpc_lines) == [
        "motobox: stack X: 2 of 11 resources not emulated by moto: AWS::EC2::DHCPOptions, "
        "AWS::EC2::VPCDHCPOptionsAssociation",
    ] + 3 * [
        "motobox: stack X: 2 of 17 resources not emulated by moto: AWS::EC2::DHCPOptions, "
        "AWS::EC2::VPCDHCPOptionsAssociation"
    ]
    assert {re.sub(r"stack \S+:", "stack X:", line) for line in app_lines} == {
        "motobox: stack X: 1 of 9 resources not emulated by moto: AWS::Logs::MetricFilter"
    }

    # Both custom resources of every application stack: made and deleted by their functions.
    answers = [
        (r["logical_id"], r["request"], r["answered_by"], r["status"])
        for r in records
        if r.get("event") == "custom-resource"
    ]
    assert sorted(answers) == sorted(
        4 * [(name, request, "function", "SUCCESS")
             for name in ("Namer", "ConfigWriter") for request in ("Create", "Delete")]
    )  # fmt: skip
    invocations = [r for r in records if r["kind"] == "lambda"]
    assert len(invocations) == 16
    assert {(r["runtime"], r["status"]) for r in invocations} == {("python3.12", "ok")}
    # ConfigWriter's own boto3 calls went through the cloud, in each stack's Region.
    writes = [r for r in records if r["kind"] == "aws" and r["operation"] == "PutObject"
              and "-configbucket-" in str(r.get("params", {}).get("Bucket"))]  # fmt: skip
    assert sorted(r["region"] for r in writes) == sorted([*REGIONS, "eu-west-1"])

    # Every stack, nested ones too, was deleted; no call got a 5xx.
    ends = {r["stack_id"]: r["status"] for r in records if r.get("event") == "stack"}
    assert len(ends) == 12 and set(ends.values()) == {"DELETE_COMPLETE"}, ends
    assert [r for r in records if r["kind"] == "aws" and r["status"] >= 500] == []
