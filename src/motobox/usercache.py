"""Facts about the installed botocore and moto that take tens of milliseconds to read and do
not change until those packages do, kept in the user's cache between runs.

Each entry is one JSON file in ``$XDG_CACHE_HOME/motobox`` (``~/.cache/motobox``), named by
what it holds and a tag of the installation it was read from (version and folder), so two
installations never share an entry. An entry that cannot be read or does not look right is
computed again and rewritten (atomically); a cache that cannot be written is no error, only
slower. Written here rather than taken from a library: the caching libraries (diskcache,
joblib) bring a database or pickles for what is a handful of small JSON files.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "motobox"


def botocore_data() -> Path:
    """The installed botocore's data folder (its service models and endpoints)."""
    import botocore

    return Path(botocore.__file__).parent / "data"


def botocore_tag() -> str:
    """botocore's version and a digest of its data folder's path."""
    import botocore

    digest = hashlib.sha256(str(botocore_data()).encode()).hexdigest()[:12]
    return f"{botocore.__version__}-{digest}"


def entry_path(name: str, tag: str) -> Path:
    return cache_dir() / f"{name}-{tag}.json"


def cached(name: str, tag: str, compute: Callable[[], Any], valid: Callable[[Any], bool]) -> Any:
    """The value of entry ``name`` for installation ``tag``: read from the cache when it is
    there and ``valid``, else ``compute()`` (JSON-serialisable), cached for the next run."""
    path = entry_path(name, tag)
    try:
        value = json.loads(path.read_text())
        if valid(value):
            return value
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value))
        os.replace(tmp, path)
    except OSError:
        pass
    return value


def is_list_of(kind: type, value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, kind) for item in value)


@functools.cache
def botocore_model_folders() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every service folder of the installed botocore's data with its API-version folders,
    both sorted (listing ~480 folders takes ~40 ms, so the list is cached)."""

    def folders() -> list[list[str]]:
        data = botocore_data()
        return [
            [service.name, version.name]
            for service in sorted(p for p in data.iterdir() if p.is_dir())
            for version in sorted(p for p in service.iterdir() if p.is_dir())
        ]

    def valid(rows: Any) -> bool:
        return is_list_of(list, rows) and all(
            len(row) == 2 and all(isinstance(x, str) for x in row) for row in rows
        )

    rows = cached("service-folders", botocore_tag(), folders, valid)
    return tuple(
        (service, tuple(version for _, version in group))
        for service, group in itertools.groupby(rows, key=lambda row: row[0])
    )
