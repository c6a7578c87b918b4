"""The pytest plugin (registered through the ``pytest11`` entry point).

    def test_cli_lists_buckets(motobox_cloud):
        motobox_cloud.client("s3").create_bucket(Bucket="demo-bucket")
        result = motobox_cloud.run(["aws", "s3", "ls"])
        assert "demo-bucket" in result.stdout
        assert motobox_cloud.journal.calls("s3:ListBuckets")

Each test gets its own cloud (its own port, state and journal), so tests run in parallel under
``pytest -n``. Options come from the ``motobox`` marker:
``@pytest.mark.motobox(account="210987654321", tls=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    with Cloud(**options) as cloud:
        yield cloud
