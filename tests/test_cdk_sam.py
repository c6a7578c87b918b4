"""AWS CDK v2 and the SAM CLI deploy, unmodified, against one motobox cloud shared across their
commands (``eval "$(motobox serve --detach)"``, then ``motobox run`` per command), sealed and
not, offline (a loopback-only network namespace), with no endpoint in the apps and the tools'
telemetry left on: it gets the egress answer (403), and the run goes on.

* CDK (``tests/cdk``: the ``aws-cdk`` CLI, ``aws-cdk-lib``, ``constructs``, installed with
  ``npm ci``; the app in ``tests/cdk/app`` is plain JavaScript): ``cdk bootstrap``, ``cdk
  deploy --outputs-file`` (a DynamoDB table, an SQS queue, an SNS topic, an S3 bucket with
  ``autoDeleteObjects``: a Node.js custom resource that runs on this machine's node with the
  project's ``@aws-sdk/client-s3``), ``cdk diff`` and a second ``cdk deploy`` after a change
  (an update through a change set), ``cdk destroy --force``; nothing of the stack is left.
* SAM (``.tools/sam``, its own virtualenv): ``sam deploy --resolve-s3`` of a SimpleTable and a
  Python function with inline code, ``sam list stack-outputs``, ``sam remote invoke``,
  ``sam delete --no-prompts``.
* Strict mode fails each on exactly what moto does not emulate (``AWS::S3::BucketPolicy``, in
  CDK's bootstrap stack and SAM's managed stack), which the unstrict runs' summary line names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AWS_CLI, ROOT, TOOLS, offline, read_journal, require

pytestmark = pytest.mark.slow

CDK_DIR = ROOT / "tests" / "cdk"
SAM = TOOLS / "sam" / "bin" / "sam"

# The program is stripped of every redirection in sealed runs (as tests/real_clients.py does).
UNSET = (
    "env -u AWS_ENDPOINT_URL -u AWS_DATA_PATH -u HTTPS_PROXY -u https_proxy "
    "-u HTTP_PROXY -u http_proxy"
)

# `step NAME CMD...` runs CMD under motobox and prints "NAME exit=N"; `cloud NAME` prints what
# the cloud holds as one JSON line (through the exported variables, not under motobox run).
HELPERS = """
step() {
  name=$1; shift; echo "== $name"
  motobox run $SEAL -- $U "$@"; rc=$?; echo; echo "$name exit=$rc"
}
cloud() {
  printf '%s=' "$1"
  python3 - <<'PY'
import json, boto3
s = boto3.session.Session()
stacks = s.client("cloudformation").list_stacks()["StackSummaries"]
print(json.dumps({
    "stacks": {x["StackName"]: x["StackStatus"] for x in stacks},
    "tables": s.client("dynamodb").list_tables()["TableNames"],
    "queues": s.client("sqs").list_queues().get("QueueUrls", []),
    "topics": [t["TopicArn"] for t in s.client("sns").list_topics()["Topics"]],
    "buckets": [b["Name"] for b in s.client("s3").list_buckets()["Buckets"]],
    "functions": [f["FunctionName"] for f in s.client("lambda").list_functions()["Functions"]],
}))
PY
}
"""

CDK_SCRIPT = (
    HELPERS
    + """
cd "$WORK/app"  # the project: the cloud's Node.js functions find its @aws-sdk
eval "$(motobox serve --detach $SEAL --journal "$WORK/cloud.jsonl")"
step bootstrap ./node_modules/.bin/cdk bootstrap
step deploy ./node_modules/.bin/cdk deploy --require-approval never --outputs-file out.json
cat out.json; echo
cloud deployed
bucket=$(python3 -c 'import json; print(json.load(open("out.json"))["MotoboxCdk"]["BucketName"])')
aws s3api put-object --bucket "$bucket" --key left-behind.txt --body cdk.json >/dev/null
step diff ./node_modules/.bin/cdk diff -c variant=2
step update ./node_modules/.bin/cdk deploy -c variant=2 --require-approval never \\
    --outputs-file out.json
cat out.json; echo
cloud updated
step destroy ./node_modules/.bin/cdk destroy --force
cloud destroyed
eval "$(motobox stop)"
"""
)

SAM_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Items:
    Type: AWS::Serverless::SimpleTable
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      InlineCode: |
        import os
        def handler(event, context):
            return {"table": os.environ["TABLE"], "got": event}
      Environment:
        Variables:
          TABLE: !Ref Items
Outputs:
  TableName:
    Value: !Ref Items
"""

SAM_SCRIPT = (
    HELPERS
    + """
cd "$WORK/app"  # the project: the cloud's Node.js functions find its @aws-sdk
eval "$(motobox serve --detach $SEAL --journal "$WORK/cloud.jsonl")"
step deploy "$SAM" deploy --stack-name motobox-sam --resolve-s3 --no-confirm-changeset \\
    --capabilities CAPABILITY_IAM
step outputs "$SAM" list stack-outputs --stack-name motobox-sam --output json
cloud deployed
step invoke "$SAM" remote invoke Hello --stack-name motobox-sam --event '{"x": 1}'
step delete "$SAM" delete --stack-name motobox-sam --no-prompts
cloud deleted
eval "$(motobox stop)"
"""
)


def _environment(work: Path, sealed: bool) -> dict[str, str]:
    aws = Path(require(AWS_CLI))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTOBOX_", "SAM_"))}
    env.pop("NODE_PATH", None)  # functions find the SDK in the project (app/node_modules)
    path = [str(Path(sys.executable).parent), str(aws.parent), env["PATH"]]
    home = work / "home"  # CDK and SAM keep caches and settings there
    home.mkdir()
    env.update(
        PATH=os.pathsep.join(path),
        HOME=str(home),
        WORK=str(work),
        SAM=str(SAM),
        SEAL="--seal" if sealed else "",
        U=UNSET if sealed else "",
    )
    return env


def _run(script: str, work: Path, sealed: bool) -> tuple[str, dict[str, str], dict[str, dict]]:
    done = subprocess.run(
        offline(["bash", "-c", script]),
        env=_environment(work, sealed),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    exits = {}
    clouds = {}
    for line in done.stdout.splitlines():
        name, sep, rest = line.partition(" exit=")
        if sep and rest.isdigit():
            exits[name] = rest
        name, sep, rest = line.partition("={")
        if sep and name.isidentifier():
            clouds[name] = json.loads("{" + rest)
    return output, exits, clouds


def _outputs_file(output: str, after: str) -> dict[str, str]:
    text = output[output.index(f"{after} exit=") :]
    text = text[text.index('{\n  "MotoboxCdk"') :]
    return dict(json.JSONDecoder().raw_decode(text)[0]["MotoboxCdk"])


def _cdk_app(work: Path) -> None:
    require(CDK_DIR / "node_modules" / "aws-cdk-lib")
    shutil.copytree(CDK_DIR / "app", work / "app")
    (work / "app" / "node_modules").symlink_to(CDK_DIR / "node_modules")


@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "sealed"])
def test_cdk_bootstraps_deploys_updates_diffs_and_destroys(tmp_path: Path, sealed: bool) -> None:
    _cdk_app(tmp_path)
    output, exits, clouds = _run(CDK_SCRIPT, tmp_path, sealed)
    assert exits == dict.fromkeys(["bootstrap", "deploy", "diff", "update", "destroy"], "0"), (
        output[-4000:]
    )
    assert "✅  Environment aws://123456789012/us-east-1 bootstrapped." in output
    assert "motobox: stack CDKToolkit: 1 of 11 resources not emulated by moto: " in output
    assert "motobox: stack MotoboxCdk: 1 of 9 resources not emulated by moto: " in output

    first = _outputs_file(output, "deploy")
    deployed = clouds["deployed"]
    assert deployed["stacks"] == {"CDKToolkit": "CREATE_COMPLETE", "MotoboxCdk": "CREATE_COMPLETE"}
    assert set(first) == {"TableName", "QueueUrl", "TopicArn", "BucketName"}
    assert deployed["tables"] == [first["TableName"]]
    # ListQueues names the queue by the endpoint asked (127.0.0.1 here), Ref by SQS's host
    (queue,) = deployed["queues"]
    assert queue.split("/")[-2:] == first["QueueUrl"].split("/")[-2:]
    assert first["QueueUrl"].startswith("https://sqs.us-east-1.amazonaws.com/123456789012/")
    assert deployed["topics"] == [first["TopicArn"]]
    staging = "cdk-hnb659fds-assets-123456789012-us-east-1"
    assert sorted(deployed["buckets"]) == sorted([staging, first["BucketName"]])

    # cdk diff saw the change through a change set; the update applied it in place.
    assert "[~] AWS::SQS::Queue Queue Queue4A7E3555" in output
    assert "Could not create a change set" not in output
    second = _outputs_file(output, "update")
    assert second == {**first, "QueueArn": second["QueueArn"]}
    assert second["QueueArn"].endswith(":" + first["QueueUrl"].rsplit("/", 1)[1])
    assert clouds["updated"]["stacks"]["MotoboxCdk"] == "UPDATE_COMPLETE"

    left = clouds["destroyed"]
    assert left["stacks"] == {"CDKToolkit": "CREATE_COMPLETE", "MotoboxCdk": "DELETE_COMPLETE"}
    assert (left["tables"], left["queues"], left["topics"]) == ([], [], [])
    assert left["buckets"] == [staging]  # the bootstrap's, which CDK keeps; the app's bucket
    # held left-behind.txt: the auto-delete custom resource emptied it before its deletion
    assert left["functions"] == []

    records = read_journal(tmp_path / "cloud.jsonl")
    calls = [r for r in records if r["kind"] == "aws"]
    assert not [r for r in calls if r["status"] >= 500], [r for r in calls if r["status"] >= 500]
    assumed = {
        r["params"]["RoleArn"].split("/")[-1] for r in calls if r["operation"] == "AssumeRole"
    }
    assert {
        "cdk-hnb659fds-deploy-role-123456789012-us-east-1",
        "cdk-hnb659fds-file-publishing-role-123456789012-us-east-1",
    } <= assumed
    assert any(
        r["operation"] == "GetParameter"
        and r["params"]["Name"] == "/cdk-bootstrap/hnb659fds/version"
        and r["status"] == 200
        for r in calls
    )
    assert any(
        r["operation"] == "PutObject" and r["params"]["Bucket"] == staging for r in calls
    )  # the template and the custom resource's code, published as assets
    emptied = [
        r["operation"]
        for r in calls
        if r["operation"] in ("DeleteObject", "DeleteObjects")
        and r["params"].get("Bucket") == first["BucketName"]
    ]
    assert emptied, "the auto-delete custom resource did not empty the bucket"
    # The auto-delete custom resource ran on this machine's node, for create and delete.
    runs = [r for r in records if r["kind"] == "lambda"]
    assert [(r["runtime"].startswith("nodejs"), r["status"]) for r in runs] == [(True, "ok")] * 2
    # CDK sends telemetry from a subprocess of its own that the run's end also ends (motobox
    # ends everything a program starts), and checks for notices only when it finds the
    # internet: whatever of it gets out before is denied with an HTTP answer.
    egress = [r for r in records if r["kind"] == "egress"]
    assert {r["host"] for r in egress} <= {
        "cdk-cli-telemetry.us-east-1.api.aws",
        "cli.cdk.dev-tools.aws.dev",
    }, egress
    assert {(r["status"], r["action"]) for r in egress} <= {(403, "deny")}
    if sealed:
        assert records[0]["kind"] == "seal"
        names = {r["name"] for r in records if r["kind"] == "dns"}
        assert "cloudformation.us-east-1.amazonaws.com" in names, names


@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "sealed"])
def test_sam_deploys_lists_outputs_invokes_and_deletes(tmp_path: Path, sealed: bool) -> None:
    require(SAM)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "template.yaml").write_text(SAM_TEMPLATE)
    output, exits, clouds = _run(SAM_SCRIPT, tmp_path, sealed)
    assert exits == dict.fromkeys(["deploy", "outputs", "invoke", "delete"], "0"), output[-4000:]
    assert "Successfully created/updated stack - motobox-sam in us-east-1" in output
    assert (
        "motobox: stack aws-sam-cli-managed-default: 1 of 2 resources not emulated by moto: "
        "AWS::S3::BucketPolicy"
    ) in output
    deployed = clouds["deployed"]
    (table,) = deployed["tables"]
    text = output[output.index("== outputs") :]
    listed = json.JSONDecoder().raw_decode(text[text.index("[") :])[0]
    assert listed == [{"OutputKey": "TableName", "OutputValue": table, "Description": ""}]
    assert deployed["stacks"]["motobox-sam"] == "CREATE_COMPLETE"
    assert f'{{"table": "{table}", "got": {{"x": 1}}}}' in output  # the function's answer
    left = clouds["deleted"]
    assert left["stacks"]["motobox-sam"] == "DELETE_COMPLETE"
    assert (left["tables"], left["functions"]) == ([], [])

    records = read_journal(tmp_path / "cloud.jsonl")
    (run,) = [r for r in records if r["kind"] == "lambda"]
    assert (run["runtime"], run["status"]) == ("python3.11", "ok")
    egress = {(r["host"], r["status"]) for r in records if r["kind"] == "egress"}
    assert ("aws-serverless-tools-telemetry.us-west-2.amazonaws.com", 403) in egress


STRICT = """
cd "$WORK/app"
eval "$(motobox serve --detach --strict --journal "$WORK/cloud.jsonl")"
motobox run -- "$@"; echo "exit=$?"
eval "$(motobox stop)"
"""


@pytest.mark.parametrize("tool", ["cdk", "sam"])
def test_strict_mode_fails_cdk_and_sam_on_exactly_what_moto_does_not_emulate(
    tmp_path: Path, tool: str
) -> None:
    if tool == "cdk":
        _cdk_app(tmp_path)
        argv = ["./node_modules/.bin/cdk", "bootstrap"]
        stack, policy = "CDKToolkit", "StagingBucketPolicy"
    else:
        require(SAM)
        (tmp_path / "app").mkdir()
        (tmp_path / "app" / "template.yaml").write_text(SAM_TEMPLATE)
        argv = [str(SAM), "deploy", "--stack-name", "motobox-sam", "--resolve-s3",
                "--no-confirm-changeset", "--capabilities", "CAPABILITY_IAM"]  # fmt: skip
        stack, policy = "aws-sam-cli-managed-default", "SamCliSourceBucketBucketPolicy"
    done = subprocess.run(
        offline(["bash", "-c", STRICT, "strict", *argv]),
        env=_environment(tmp_path, sealed=False),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "exit=1" in done.stdout, output[-4000:]
    assert (
        f"motobox: stack {stack}: 1 resources failed because moto does not emulate them "
        "(strict): AWS::S3::BucketPolicy"
    ) in output
    records = read_journal(tmp_path / "cloud.jsonl")
    refused = [(r["logical_id"], r["type"]) for r in records if r.get("emulation") == "refused"]
    assert refused == [(policy, "AWS::S3::BucketPolicy")]
    assert not [r for r in records if r.get("emulation") == "stubbed"]
