"""What the fixes need to know about the request moto is answering in this thread.

The gateway enters ``request_context`` around each call it hands to moto (moto answers a
request in the thread that received it); fixes read the values with ``condition_values``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_context = threading.local()


@contextlib.contextmanager
def request_context(*, signature_version: str | None) -> Iterator[None]:
    """Condition values of the request moto is answering in this thread."""
    values: dict[str, str] = {}
    if signature_version == "v4":
        values["s3:signatureversion"] = "AWS4-HMAC-SHA256"
    elif signature_version == "v2":
        values["s3:signatureversion"] = "AWS"
    previous = getattr(_context, "values", None)
    _context.values = values
    try:
        yield
    finally:
        _context.values = previous


def condition_values() -> dict[str, str]:
    return dict(getattr(_context, "values", None) or {})
