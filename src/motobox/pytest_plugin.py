"""The pytest plugin (registered through the ``pytest11`` entry point).

    def test_cli_lists_buckets(motobox_cloud):
        motobox_cloud.client("s3").create_bucket(Bucket="demo-bucket")
        result = motobox_cloud.run(["aws", "s3", "ls"])
        assert "demo-bucket" in result.stdout
        assert motobox_cloud.journal.calls("s3:ListBuckets")

Each test gets its own cloud (its own port, state and journal), so tests run in parallel under
``pytest -n``. Options come from the ``motobox`` marker:
``@pytest.mark.motobox(account="210987654321", tls=True)``, and
``@pytest.mark.motobox(scenario="scenarios/throttled.yaml")`` (relative to the test file) loads
a scenario for one test; ``motobox_cloud.run(...)`` then returns its expectation report as
``result.report`` (``.passed``, ``.text()``). ``motobox_cloud.rules.add({...})`` changes the
rules in the middle of a test (``live``). To share one cloud across tests, make a fixture of
wider scope around ``motobox.Cloud()`` (README: "Rules that change while the cloud runs").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from motobox.cloud import Cloud


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "motobox(**options): options of the motobox_cloud fixture "
        "(account, region, tls, scenario=..., journal=...)",
    )


@pytest.fixture
def motobox_cloud(request: pytest.FixtureRequest) -> Iterator[Cloud]:
    """A started ``motobox.Cloud`` for one test; stopped afterwards."""
    options: dict[str, Any] = {}
    marker = request.node.get_closest_marker("motobox")
    if marker:
        options.update(marker.kwargs)
    scenario = options.pop("scenario", None)
    if scenario is not None:  # one file, relative to the test's own folder
        base = request.path.parent
        files = [scenario] if isinstance(scenario, str | Path) else list(scenario)
        options["scenarios"] = [base / f for f in files]
    with Cloud(**options) as cloud:
        yield cloud
