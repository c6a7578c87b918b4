"""moto's own server-mode tests pass under ``motobox serve`` wherever they pass under plain
``moto_server``.

moto 5.2.5's sdist ships its test suite; with ``TEST_SERVER_MODE=true`` every boto3 client it
makes goes to ``http://localhost:5000``. ``tools/moto_suite.py`` runs a fixed list of those tests
(``tests/moto_suite_ids.txt``) under each server at once, each server and its pytest in a network
namespace of their own (every test resets its server, and some hard-code port 5000), and
compares the outcomes id by id. ``make moto-suite`` does the same for whole services.

Why these ids. The list (400 ids, about 30 s of test time per server; the whole test takes
about 40 s on a quiet machine, 80 s on two busy cores) is drawn from seven files. Every test of
``test_sts_integration.py`` and ``test_sqs_multiaccount.py``: keys that ``AssumeRole`` and
``AssumeRoleWithSAML`` issue act in the role's account, which a gateway in front of moto can
easily get wrong. Then equal shares of ``test_s3.py`` (rest-xml), ``test_sqs.py`` and
``test_dynamodb.py`` (json), ``test_cloudformation_stack_crud.py`` and ``test_iam.py`` (query):
the services programs use most through motobox, one wire protocol or more each. From each file,
the tests that passed under moto_server in at most 0.5 s, at most two parametrizations of one
test function, taken evenly spaced through the file so that every operation it covers is
sampled. The slow ones left out mostly wait in real time (SQS visibility timeouts, a 16 s
DynamoDB 1 MB-limit test); ``make moto-suite`` still runs them. ``moto_suite.py pick`` makes
the list (the commands are in its header). Tests moto skips in server mode (they reach into
moto's backends in-process, or need Docker) are not in it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, require

IDS = ROOT / "tests" / "moto_suite_ids.txt"
SUITE = ROOT / ".tools" / "moto-suite"


def test_moto_tests_passing_under_moto_server_pass_under_motobox(tmp_path: Path) -> None:
    require(SUITE / "venv" / "bin" / "python")
    require(SUITE / "moto-5.2.5" / "tests")
    ids = [line.strip() for line in IDS.read_text().splitlines()]
    ids = [i for i in ids if i and not i.startswith("#")]
    assert len(ids) == len(set(ids)) <= 400
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "moto_suite.py"), "run", "--ids", str(IDS),
         "--out", str(tmp_path), "--timeout", "400", "--test-timeout", "30"],
        capture_output=True,
        text=True,
        timeout=460,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    lanes = [f"{lane['lane']}: {lane['problem']}" for lane in results["lanes"] if lane["problem"]]
    assert not lanes, "the runs did not complete:\n" + "\n".join(lanes) + "\n" + done.stdout

    reference = results["outcomes"]["moto_server"]
    not_passing = [f"  {i}: {reference.get(i, {}).get('outcome', 'missing')}" for i in ids
                   if reference.get(i, {}).get("outcome") != "passed"]  # fmt: skip
    assert not not_passing, (
        "these ids no longer pass under plain moto_server (the list was made from ids that "
        "did; remake it as its header says, or see the logs in the run's folder):\n"
        + "\n".join(not_passing)
    )

    regressions = results["regressions"]
    if regressions:
        pytest.fail(
            f"{len(regressions)} of moto's own server-mode tests pass under moto_server but not "
            "under `motobox serve`:\n"
            + "\n".join(f"  {r['id']}\n      {r['outcome']}: {r['line']}" for r in regressions),
            pytrace=False,
        )
