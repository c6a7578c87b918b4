"""motobox: run an unmodified program against an embedded moto cloud.

Start here: ``with motobox.Cloud() as cloud: result = cloud.run(["aws", "s3", "ls"])``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from motobox.cloud import Cloud, RunResult  # noqa: E402
from motobox.journal import Journal  # noqa: E402

__all__ = ["Cloud", "Journal", "RunResult", "__version__"]
