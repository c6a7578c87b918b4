"""Which host answers: names that look like AWS but are no AWS API (the CDK's and SAM's
telemetry) get the egress control's answer, as any other internet host, through the proxy and
sealed; a call to an AWS API's host is answered by the service that host names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import read_journal
from real_clients import run_client, tail

CDK = "https://cdk-cli-telemetry.us-east-1.api.aws/metrics"
SAM = "https://aws-serverless-tools-telemetry.us-west-2.amazonaws.com/metrics"

# POSTs a telemetry event to each URL as the tools do; urllib follows HTTPS_PROXY when set.
POST = """
import sys, urllib.error, urllib.request
for url in sys.argv[1:]:
    request = urllib.request.Request(url, data=b'{"event": "deploy"}', method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            print(answer.status, answer.read().decode())
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode().splitlines()[0])
"""

STUBS = f"""name: telemetry stubs
egress:
  - host: cdk-cli-telemetry.us-east-1.api.aws
    json: {{recorded: true}}
  - url: {SAM}
    status: 202
    body: accepted
"""


@pytest.mark.parametrize("stubbed", [False, True], ids=["denied", "stubbed"])
@pytest.mark.parametrize("sealed", [True, False], ids=["sealed", "proxy"])
def test_telemetry_hosts_get_the_egress_answer_and_are_journaled_as_egress(
    tmp_path: Path, sealed: bool, stubbed: bool
) -> None:
    journal = tmp_path / "j.jsonl"
    scenario = None
    if stubbed:
        scenario = tmp_path / "stubs.yaml"
        scenario.write_text(STUBS)
    done = run_client(
        [sys.executable, "-c", POST, CDK, SAM], sealed=sealed, journal=journal, scenario=scenario
    )
    assert done.returncode == 0, tail(done)
    records = [r for r in read_journal(journal) if r["kind"] not in ("dns", "seal")]
    answers = done.stdout.splitlines()
    journaled = [(r["kind"], r.get("url"), r["status"], r.get("action")) for r in records]
    if stubbed:
        assert answers == ['200 {"recorded": true}', "202 accepted"]
        assert journaled == [("egress", CDK, 200, "stub"), ("egress", SAM, 202, "stub")]
    else:
        assert [a.split(":")[0] for a in answers] == [
            "403 motobox denied egress to cdk-cli-telemetry.us-east-1.api.aws",
            "403 motobox denied egress to aws-serverless-tools-telemetry.us-west-2.amazonaws.com",
        ]
        assert journaled == [("egress", CDK, 403, "deny"), ("egress", SAM, 403, "deny")]


def test_an_unsigned_query_call_is_answered_by_the_service_its_host_names(tmp_path: Path) -> None:
    """No Authorization header: the host (sts.amazonaws.com) is all that says which service is
    meant; what the journal names and what answers must be the same service."""
    journal = tmp_path / "j.jsonl"
    done = run_client(
        ["curl", "-sS", "-d", "Action=GetCallerIdentity&Version=2011-06-15",
         "https://sts.amazonaws.com/"],
        sealed=True,
        journal=journal,
    )  # fmt: skip
    assert done.returncode == 0, tail(done)
    assert "<GetCallerIdentityResponse" in done.stdout, done.stdout[-200:]
    assert "<Account>123456789012</Account>" in done.stdout
    calls = [(r["service"], r["operation"]) for r in read_journal(journal) if r["kind"] == "aws"]
    assert calls == [("sts", "GetCallerIdentity")]
