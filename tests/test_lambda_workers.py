"""Execution environments as Lambda keeps them: a warm process per function version, reused
(module state survives), as many as the program's concurrency, retired after a crash or an
update, and gone when the cloud stops. Layers are on the path as on Lambda."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import NODE_DIR, require
from lambda_code import create, invoke, runs, zipped
from motobox import Cloud

COUNTER = """
import os, time

count = 0

def handler(event, context):
    global count
    count += 1
    if event.get("crash"):
        os._exit(3)
    if event.get("wait_for"):  # two invocations at once: the first waits for the second
        open(event["started"], "w").close()
        while not os.path.exists(event["wait_for"]):
            time.sleep(0.01)
    return {"count": count}
"""

NODE_COUNTER = """
let count = 0;
exports.handler = async (event) => {
  count += 1;
  if (event.crash) process.exit(3);
  return { count };
};
"""


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    with Cloud() as running:
        yield running


@pytest.mark.parametrize(
    "runtime, files",
    [("python3.11", {"index.py": COUNTER}), ("nodejs24.x", {"index.js": NODE_COUNTER})],
    ids=["python", "node"],
)
def test_a_warm_worker_keeps_module_state_until_it_crashes(
    cloud: Cloud, runtime: str, files: dict[str, str]
) -> None:
    name = f"warm-{runtime.split('.')[0].rstrip('0123456789')}"
    create(cloud, name, files, runtime=runtime)
    counts = [invoke(cloud, name)["Payload"]["count"] for _ in range(3)]
    assert counts == [1, 2, 3]  # one process, its module imported once
    first = runs(cloud, name)
    assert len({r["pid"] for r in first}) == 1
    assert [r["cold"] for r in first] == [True, False, False]

    crashed = invoke(cloud, name, {"crash": True})
    assert crashed["FunctionError"] == "Unhandled"
    assert crashed["Payload"]["errorType"] == "Runtime.ExitError"
    assert crashed["Payload"]["errorMessage"].endswith(
        "Error: Runtime exited with error: exit status 3"
    )
    assert invoke(cloud, name)["Payload"]["count"] == 1  # a new process, a new module
    *_, crash, after = runs(cloud, name)
    assert crash["status"] == "crash" and crash["pid"] == first[0]["pid"]
    assert after["cold"] is True and after["pid"] != crash["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(crash["pid"], 0)


def test_concurrent_invocations_get_a_worker_each_and_sequential_ones_share(
    cloud: Cloud, tmp_path: Path
) -> None:
    create(cloud, "concurrent", {"index.py": COUNTER}, timeout=30)
    one, two = tmp_path / "one", tmp_path / "two"
    answers: dict[str, Any] = {}

    def first() -> None:  # waits inside the function until the second has started
        answers["first"] = invoke(cloud, "concurrent", {"started": str(one), "wait_for": str(two)})

    thread = threading.Thread(target=first)
    thread.start()
    try:
        while not one.exists() and thread.is_alive():
            thread.join(0.01)
        # the first invocation is now inside its handler: this one needs a second worker
        answers["second"] = invoke(cloud, "concurrent", {"started": str(two), "wait_for": str(two)})
    finally:
        two.touch()
        thread.join()
    assert answers["first"]["Payload"] == {"count": 1}
    assert answers["second"]["Payload"] == {"count": 1}
    assert len({r["pid"] for r in runs(cloud, "concurrent")}) == 2
    for _ in range(4):  # one after another: the two warm workers serve them all
        invoke(cloud, "concurrent")
    assert len({r["pid"] for r in runs(cloud, "concurrent")}) == 2


def test_an_update_of_code_or_configuration_starts_a_new_worker(cloud: Cloud) -> None:
    create(cloud, "updated", {"index.py": COUNTER})
    assert [invoke(cloud, "updated")["Payload"]["count"] for _ in range(2)] == [1, 2]
    lam = cloud.client("lambda")
    lam.update_function_configuration(FunctionName="updated", Environment={"Variables": {"A": "1"}})
    assert invoke(cloud, "updated")["Payload"]["count"] == 1
    changed = COUNTER.replace('{"count": count}', '{"count": count, "v": 2}')
    lam.update_function_code(FunctionName="updated", ZipFile=zipped({"index.py": changed}))
    assert invoke(cloud, "updated")["Payload"] == {"count": 1, "v": 2}
    pids = [r["pid"] for r in runs(cloud, "updated")]
    assert pids[0] == pids[1] and len(set(pids)) == 3
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)  # the outdated worker is retired, not left idle


def test_a_published_version_runs_its_own_code(cloud: Cloud) -> None:
    create(cloud, "versioned", {"index.py": COUNTER})
    lam = cloud.client("lambda")
    version = lam.publish_version(FunctionName="versioned")["Version"]
    changed = COUNTER.replace('{"count": count}', '{"latest": True}')
    lam.update_function_code(FunctionName="versioned", ZipFile=zipped({"index.py": changed}))
    assert invoke(cloud, "versioned", Qualifier=version)["Payload"] == {"count": 1}
    latest = invoke(cloud, "versioned")
    assert latest["Payload"] == {"latest": True} and latest["ExecutedVersion"] == "$LATEST"
    lam.create_alias(FunctionName="versioned", Name="live", FunctionVersion=version)
    live = invoke(cloud, "versioned", Qualifier="live")  # the version's warm worker
    assert live["Payload"] == {"count": 2} and live["ExecutedVersion"] == version
    assert [r["version"] for r in runs(cloud, "versioned")] == [version, "$LATEST", version]


LAYER_PY = "GREETING = 'from a python layer'\n"
LAYER_JS = "module.exports = 'from a node layer';\n"


def test_layers_are_on_the_path_as_on_lambda(cloud: Cloud) -> None:
    require(NODE_DIR / "node_modules")
    lam = cloud.client("lambda")
    py = lam.publish_layer_version(
        LayerName="py", Content={"ZipFile": zipped({"python/greeting.py": LAYER_PY})}
    )["LayerVersionArn"]
    js = lam.publish_layer_version(
        LayerName="js",
        Content={"ZipFile": zipped({"nodejs/node_modules/greeting/index.js": LAYER_JS})},
    )["LayerVersionArn"]
    create(cloud, "with-py-layer", {"index.py": "import greeting\n"
           "def handler(e, c):\n    return greeting.GREETING\n"})  # fmt: skip
    lam.update_function_configuration(FunctionName="with-py-layer", Layers=[py])
    create(cloud, "with-js-layer", {"index.js": "const g = require('greeting');\n"
           "exports.handler = async () => g;\n"}, runtime="nodejs24.x")  # fmt: skip
    lam.update_function_configuration(FunctionName="with-js-layer", Layers=[js])
    assert invoke(cloud, "with-py-layer")["Payload"] == "from a python layer"
    assert invoke(cloud, "with-js-layer")["Payload"] == "from a node layer"


def test_nothing_outlives_the_cloud(tmp_path: Path) -> None:
    with Cloud() as cloud:
        create(cloud, "short-lived", {"index.py": COUNTER})
        invoke(cloud, "short-lived")
        [record] = runs(cloud, "short-lived")
        workspace = cloud.gateway.cloud.extra["lambda_pool"].workspace("").root  # type: ignore[union-attr]
        assert workspace.is_dir()
        os.kill(record["pid"], 0)  # warm while the cloud runs
    with pytest.raises(ProcessLookupError):
        os.kill(record["pid"], 0)
    assert not workspace.exists()
