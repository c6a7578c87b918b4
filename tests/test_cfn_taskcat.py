"""The real taskcat 0.9.58 and the real AWS CLI v1 on small templates, one per case the
CloudFormation engine handles, each run offline (a loopback-only network namespace)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import AWS_CLI, ROOT, TASKCAT, motobox, read_journal, require
from taskcat_action.report import read_results

PROJECT = ROOT / "tests" / "projects" / "cfn-cases"
BASE = ROOT / "scenarios" / "taskcat" / "base.yaml"


def test_taskcat_gets_true_answers_for_each_case(tmp_path: Path) -> None:
    require(TASKCAT)
    project = tmp_path / "project"  # taskcat writes into the project (.taskcat/)
    shutil.copytree(PROJECT, project)
    scenario = tmp_path / "ssm.yaml"
    scenario.write_text(
        "setup:\n  - ssm.put_parameter: {Name: /motobox/present, Value: from-ssm, Type: String}\n"
    )
    journal, out = tmp_path / "j.jsonl", tmp_path / "outputs"
    done = motobox(
        [
            "run",
            "--scenario",
            str(BASE),
            "--scenario",
            str(scenario),
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
    assert "ResponseParserError" not in log and "the backend failed" not in log, log[-3000:]
    assert done.returncode == 1, log[-3000:]  # two tests fail, as they would on AWS
    results = {r.test: r for r in read_results(out)}
    assert {test: r.status for test, r in results.items()} == {
        "stubbed": "CREATE_COMPLETE",
        "yaml-date": "CREATE_COMPLETE",
        "novalue": "CREATE_COMPLETE",
        "getatt-unmodelled": "CREATE_COMPLETE",
        "nested-child-fails": "CREATE_FAILED",
        "ssm-present": "CREATE_COMPLETE",
        "ssm-missing": "CREATE_FAILED",
    }
    assert re.fullmatch(
        r"Embedded stack arn:aws:cloudformation:us-east-1:123456789012:stack/"
        r"tCaT-cfn-cases-nested-child-fails-\w+-Child-\w+/[-0-9a-f]+ was not successfully "
        r"created: The following resource\(s\) failed to create: \[Setting\]\.",
        results["nested-child-fails"].reason,
    ), results["nested-child-fails"].reason
    assert results["ssm-missing"].reason == ("Parameters: [ssm:/motobox/missing] cannot be found.")
    records = read_journal(journal)
    stubbed = [(r["stack"], r["type"]) for r in records if r.get("emulation") == "stubbed"]
    assert sorted(t for _, t in stubbed) == [  # taskcat runs its tests at once: any order
        "AWS::CertificateManager::Certificate",
        "AWS::ServiceCatalog::CloudFormationProduct",
    ]
    stubbed_stack = next(s for s, t in stubbed if t.startswith("AWS::ServiceCatalog"))
    assert (
        f"motobox: stack {stubbed_stack}: 1 of 2 resources not emulated by moto: "
        "AWS::ServiceCatalog::CloudFormationProduct"
    ) in done.stderr
    # Every stack, the failed ones too, was deleted: nothing is left in progress.
    ends = {r["stack"]: r["status"] for r in records if r.get("event") == "stack"}
    assert set(ends.values()) == {"DELETE_COMPLETE"}, ends


DEPLOYED = """
Parameters:
  Value:
    Type: String
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /deployed/setting
      Type: String
      Value: !Ref Value
Outputs:
  Name:
    Value: !Ref Setting
"""

SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      InlineCode: "def handler(event, context):\\n    return 'hello'\\n"
"""


def test_aws_cloudformation_deploy_updates_and_accepts_an_empty_change_set(
    tmp_path: Path,
) -> None:
    aws = require(AWS_CLI)
    (tmp_path / "app.yaml").write_text(DEPLOYED)
    (tmp_path / "sam.yaml").write_text(SAM)
    deploy = f"{aws} cloudformation deploy --stack-name app --template-file app.yaml"
    script = " && ".join(
        [
            f"{deploy} --parameter-overrides Value=one",
            f"{deploy} --parameter-overrides Value=two",
            f"{aws} ssm get-parameter --name /deployed/setting --query Parameter.Value",
            f"{deploy} --parameter-overrides Value=two --no-fail-on-empty-changeset",
            f"{aws} cloudformation describe-stacks --stack-name app "
            "--query Stacks[0].Outputs[0].OutputValue",
            f"{aws} cloudformation deploy --stack-name sam --template-file sam.yaml "
            "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND",
            f"{aws} lambda list-functions --query Functions[0].Handler",
        ]
    )
    done = motobox(["run", "--", "sh", "-c", script], cwd=tmp_path, isolated=True)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert '"two"' in done.stdout
    assert "No changes to deploy. Stack app is up to date" in done.stdout
    assert '"/deployed/setting"' in done.stdout
    assert "Successfully created/updated stack - sam" in done.stdout
    assert '"index.handler"' in done.stdout


def test_timeout_says_so_and_names_stacks_still_in_progress(tmp_path: Path) -> None:
    done = motobox(["run", "--timeout", "1", "--", "sleep", "30"], isolated=True)
    assert done.returncode == 124
    assert "motobox: the program ran past --timeout 1 s; ended" in done.stderr
