"""What emulation code needs to know about the call moto is answering in this thread.

The gateway enters ``request_context`` around each call it hands to moto (moto answers a
request in the thread that received it). Fixes and emulators read it with ``current()``:

    current().cloud      the ``CloudContext`` of the cloud that received the call: where
                         programs reach it, its journal, how to start a process the way the
                         program was started (inside the sealed namespace of a sealed run),
                         the environment a process of an account gets, strict mode
    current().account    the account the call acts in
    current().region     the call's region
    condition_values()   IAM condition values of the request (``s3:signatureversion``)

Work that outlives the request (an ``Event`` invocation, a custom resource's answer) takes
``current()`` with it into its thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

    from motobox.journal import Journal

_context = threading.local()


@dataclass
class CloudContext:
    """One running cloud, as emulation code sees it (``Cloud`` makes it)."""

    #: The cloud as programs reach it, e.g. ``http://127.0.0.1:PORT``.
    endpoint_url: str
    journal: Journal
    #: ``env(account, region)``: the environment a process acting in ``account`` gets
    #: (redirected to this cloud, that account's fake keys, the run's CA and egress proxy).
    env: Callable[[str, str], dict[str, str]]
    #: ``popen(argv, env, **kwargs)``: ``subprocess.Popen`` as the program is started: in a
    #: sealed run, inside its network namespace (through the supervisor).
    popen: Callable[..., subprocess.Popen[bytes]]
    #: Resources and operations moto does not emulate fail instead of being stubbed.
    strict: bool = False
    #: The scenario's rule engine (``scenario.rules.RuleEngine``), which also answers custom
    #: resources (``select_custom_resource``); None without rules.
    rules: Any = None
    #: What emulators keep per cloud (e.g. the Lambda executor's warm workers).
    extra: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def on_close(self, close: Callable[[], None]) -> None:
        """Call ``close`` when the cloud stops (before its servers do), e.g. to end the
        processes an emulator started for it."""
        self.closers.append(close)

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()


@dataclass(frozen=True)
class RequestInfo:
    cloud: CloudContext | None = None
    account: str | None = None
    region: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)


_NONE = RequestInfo()


@contextlib.contextmanager
def request_context(
    *,
    signature_version: str | None,
    cloud: CloudContext | None = None,
    account: str | None = None,
    region: str | None = None,
) -> Iterator[RequestInfo]:
    """The call moto is answering in this thread (see the module docstring)."""
    values: dict[str, str] = {}
    if signature_version == "v4":
        values["s3:signatureversion"] = "AWS4-HMAC-SHA256"
    elif signature_version == "v2":
        values["s3:signatureversion"] = "AWS"
    with carried(RequestInfo(cloud=cloud, account=account, region=region, values=values)) as info:
        yield info


def current() -> RequestInfo:
    """The call this thread is answering (an empty ``RequestInfo`` outside one)."""
    return getattr(_context, "info", None) or _NONE


@contextlib.contextmanager
def carried(info: RequestInfo) -> Iterator[RequestInfo]:
    """``info`` as this thread's context: for work that a request started in another thread."""
    previous = getattr(_context, "info", None)
    _context.info = info
    try:
        yield info
    finally:
        _context.info = previous


def condition_values() -> dict[str, str]:
    return dict(current().values)
