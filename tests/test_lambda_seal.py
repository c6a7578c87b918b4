"""A sealed run seals its functions too: they run inside the run's network namespace, where
every name resolves to motobox, and reach only the cloud and the egress control. The run itself
is inside a loopback-only namespace (``offline``), so a broken seal cannot leak."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import motobox, read_journal

PROGRAM = """
import io, json, os, zipfile
import boto3

FUNCTION = '''
import os, socket, urllib.error, urllib.request
import boto3

def handler(event, context):
    boto3.client("s3").put_object(Bucket="sealed-bucket", Key="from-fn", Body=b"sealed")
    try:
        urllib.request.urlopen("https://example.com/", timeout=10)
        egress = "reached"
    except urllib.error.HTTPError as e:
        egress = e.code
    return {"netns": os.readlink("/proc/self/ns/net"),
            "resolves": socket.gethostbyname("example.com"), "egress": egress}
'''
code = io.BytesIO()
with zipfile.ZipFile(code, "w") as archive:
    archive.writestr("index.py", FUNCTION)
role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
s3 = boto3.client("s3")
s3.create_bucket(Bucket="sealed-bucket")
lam = boto3.client("lambda")
lam.create_function(FunctionName="sealed-fn", Runtime="python3.11", Role=role,
                    Handler="index.handler", Code={"ZipFile": code.getvalue()}, Timeout=30)
answer = json.loads(lam.invoke(FunctionName="sealed-fn")["Payload"].read())
print("same namespace as the program:", answer.get("netns") == os.readlink("/proc/self/ns/net"))
print("example.com resolves to", answer.get("resolves"))
print("example.com answers", answer.get("egress"))
print("object:", s3.get_object(Bucket="sealed-bucket", Key="from-fn")["Body"].read().decode())
"""


def test_a_sealed_run_runs_its_functions_inside_its_namespace(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    done = motobox(
        ["run", "--seal", "--journal", str(journal), "--", sys.executable, "-c", PROGRAM],
        isolated=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "same namespace as the program: True",
        "example.com resolves to 127.0.0.1",
        "example.com answers 403",
        "object: sealed",
    ]
    records = read_journal(journal)
    [run] = [r for r in records if r["kind"] == "lambda"]
    assert run["function"] == "sealed-fn" and run["status"] == "ok"
    assert "example.com" in {r["name"] for r in records if r["kind"] == "dns"}
    [denied] = [r for r in records if r["kind"] == "egress"]
    assert (denied["url"], denied["action"]) == ("https://example.com/", "deny")
