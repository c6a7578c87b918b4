"""What makes a run start fast must not change what it does: facts kept in the user's cache
equal what botocore and moto hold (and a user's own models are never hidden by them), the
endpoint data for old SDKs names the cloud of this run, and ``motobox`` pauses the garbage
collector only while it starts."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from conftest import last_line_of_fresh_python
from motobox import usercache
from motobox.aws import models
from motobox.sandbox import environment


def test_service_folders_come_from_the_cache_and_equal_botocores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = usercache.botocore_data()
    listed = tuple(
        (service.name, tuple(sorted(p.name for p in service.iterdir() if p.is_dir())))
        for service in sorted(p for p in data.iterdir() if p.is_dir())
    )
    folders = usercache.botocore_model_folders
    folders.cache_clear()
    try:
        assert folders() == listed  # read afresh, then cached
        entry = usercache.entry_path("service-folders", usercache.botocore_tag())
        assert json.loads(entry.read_text()) == [[s, v] for s, versions in listed for v in versions]
        folders.cache_clear()
        with mock.patch.object(Path, "iterdir", side_effect=AssertionError("listed again")):
            assert folders() == listed
        entry.write_text('[["s3", 1]]')  # not a list of name pairs: read afresh
        folders.cache_clear()
        assert folders() == listed
    finally:
        folders.cache_clear()


def test_legacy_endpoint_data_names_the_url_it_was_last_written_for(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for url in ("http://127.0.0.1:1111", "https://127.0.0.1:2222"):
        environment._write_legacy_endpoint_data(data, url)
    s3 = json.loads((data / "s3" / "2006-03-01" / "endpoint-rule-set-1.json").read_text())
    urls = [rule["endpoint"]["url"] for rule in s3["rules"]]
    assert urls == ["{Endpoint}/{Bucket}", "https://127.0.0.1:2222/{Bucket}", "{Endpoint}"] + [
        "https://127.0.0.1:2222"
    ]
    written = 0
    for service, versions in usercache.botocore_model_folders():
        for version in versions:
            text = (data / service / version / "endpoint-rule-set-1.json").read_text()
            assert "127.0.0.1:2222" in text and "1111" not in text, (service, version)
            written += 1
    assert written > 400
    endpoints = (data / "endpoints.json").read_text()
    assert '"hostname" : "127.0.0.1:1111"' not in endpoints
    assert '"127.0.0.1:2222"' in endpoints


def _listings_of(folder: Path, call: Any) -> int:
    with mock.patch("botocore.loaders.os.listdir", wraps=os.listdir) as listdir:
        call()
    return sum(1 for c in listdir.call_args_list if str(c.args[0]).rstrip("/") == str(folder))


def test_the_model_loader_lists_services_from_the_cache_unless_a_user_has_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = usercache.botocore_data()
    first = models._new_loader()
    assert _listings_of(data, lambda: first.list_available_services("service-2")) == 1
    expected = first.list_available_services("service-2")
    assert "sts" in expected and "s3" in expected
    fresh = models._new_loader()  # a later run: the list comes from the cache
    assert _listings_of(data, lambda: fresh.list_available_services("service-2")) == 0
    assert fresh.list_available_services("service-2") == expected
    assert fresh.load_service_model("sts", "service-2")["metadata"]["serviceId"] == "STS"

    own = tmp_path / "models"  # a user's own model (as in ~/.aws/models) is found
    (own / "myservice" / "2020-01-01").mkdir(parents=True)
    (own / "myservice" / "2020-01-01" / "service-2.json").write_text("{}")
    mine = models._new_loader()
    mine._search_paths = [str(own), *mine.search_paths]
    assert mine.list_available_services("service-2") == sorted([*expected, "myservice"])


SERVE_AND_LOOK = """
import gc, os, signal, sys, threading, time, urllib.error, urllib.request
from motobox.cli import main

port = int(sys.argv[1])
seen = {}

def look():
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            break
        except urllib.error.HTTPError:  # an answer all the same
            break
        except OSError:
            time.sleep(0.02)
    time.sleep(0.3)  # the exports are printed just after the first answers
    seen["enabled"], seen["frozen"] = gc.isenabled(), gc.get_freeze_count()
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=look, daemon=True).start()
sys.argv = ["motobox", "serve", "--port", str(port)]
code = main()
print("gc", seen, "after", gc.isenabled(), "exit", code)
"""


def test_serve_runs_the_garbage_collector_again_once_it_answers() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-c", SERVE_AND_LOOK, str(port)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("gc {'enabled': True, 'frozen': ") and last.endswith("after True exit 0")
    assert int(last.split("'frozen': ")[1].split("}")[0]) > 100_000  # start-up's objects


def test_a_command_run_from_python_leaves_the_garbage_collector_alone(tmp_path: Path) -> None:
    from motobox.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: ok\n")
    frozen = gc.get_freeze_count()
    assert main(["check", str(scenario)]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen


WITHOUT_A_SCENARIO = """
import sys, urllib.request
from motobox.cloud import Cloud

SCENARIO_MODULES = ("motobox.scenario.model", "motobox.scenario.load", "motobox.aws.wire",
                    "motobox.scenario.patch")
with Cloud() as cloud:
    request = urllib.request.Request(
        cloud.endpoint_url + "/", data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=MOTOBOX123456789012/20240101/"
                 "us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0"})
    answered = urllib.request.urlopen(request).status
    before = [m for m in SCENARIO_MODULES if m in sys.modules]
    change = cloud.rules.add({"match": {"operation": "sqs:ListQueues"},
                              "error": {"code": "Throttling"}})
    after = [m for m in SCENARIO_MODULES if m in sys.modules]
print(answered, before, after, change.sources)
"""


def test_a_cloud_without_a_scenario_loads_the_scenario_machinery_only_when_a_rule_comes() -> None:
    # Each frozen dataclass of the model costs ~0.4 ms to build and the cloud is not
    # answering until its imports are done (bench/startup_phases.py): a cloud without rules
    # must not pay for them, and one that gets a rule while it runs must still load them.
    last = last_line_of_fresh_python(WITHOUT_A_SCENARIO)
    assert last == (
        "200 [] ['motobox.scenario.model', 'motobox.scenario.load'] ['live:1#rules[0]']"
    ), last
