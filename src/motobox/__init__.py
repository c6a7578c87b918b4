"""motobox: run an unmodified program against an embedded moto cloud.

Start here: ``with motobox.Cloud() as cloud: result = cloud.run(["aws", "s3", "ls"])``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from motobox.cloud import Cloud, RunResult
    from motobox.journal import Journal

__all__ = ["Cloud", "Journal", "RunResult", "__version__"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: importing moto takes ~0.3 s, which ``motobox check`` and
    # ``motobox --help`` (and ``import motobox.errors``) need not pay.
    if name in ("Cloud", "RunResult"):
        from motobox import cloud

        return getattr(cloud, name)
    if name == "Journal":
        from motobox.journal import Journal

        return Journal
    raise AttributeError(f"module 'motobox' has no attribute {name!r}")
