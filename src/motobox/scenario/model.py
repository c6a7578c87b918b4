"""What a scenario's entries say, as frozen dataclasses: the loader (``load``) builds them, the
rule engine (``rules``), the expectation checker (``expect``) and ``Cloud`` read them. The
scenario as a whole (``Scenario``, ``combine``) is the package's (``motobox.scenario``), so a
cloud without a scenario file never loads this module.

Rules, egress stubs and DNS rules keep the mapping they were built from (``spec``): a run
attached to another motobox's cloud sends them to it as they were written (``live``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ErrorSpec:
    code: str
    message: str = ""
    status: int = 400
    #: Header fields of the error answer (``retry_after`` adds ``Retry-After``).
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TransportFault:
    """How the answer reaches the client (``transport.http.Delivery``): ``reset`` (``before``
    the backend acts, or ``after``), ``hang``, ``truncate`` (body bytes sent before the
    connection closes), ``throttle_bandwidth`` (body bytes a second)."""

    reset: str | None = None
    hang: bool = False
    truncate: int | None = None
    throttle_bandwidth: float | None = None

    @property
    def backend_acts(self) -> bool:
        """Whether the call reaches the backend (a reset before it, or a hang, never does)."""
        return not (self.hang or self.reset == "before")

    def label(self) -> dict[str, Any]:
        """What the journal says of the fault, before the transport adds what it delivered."""
        if self.reset:
            return {"effect": "reset", "when": self.reset}
        if self.hang:
            return {"effect": "hang"}
        out: dict[str, Any] = {}
        if self.truncate is not None:
            out = {"effect": "truncate", "truncate": self.truncate}
        if self.throttle_bandwidth is not None:
            out.setdefault("effect", "throttle_bandwidth")
            out["throttle_bandwidth"] = self.throttle_bandwidth
        return out


@dataclass(frozen=True)
class FailStack:
    reason: str
    resource: str | None = None


@dataclass(frozen=True)
class CustomResourceAnswer:
    """A custom resource's answer, given by a scenario instead of its function."""

    status: str
    data: dict[str, Any] = field(default_factory=dict)
    physical_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Rule:
    source: str
    services: frozenset[str] | None = None
    operation: str | None = None
    region: str | None = None
    account: str | None = None
    params: dict[str, Any] | None = None
    error: ErrorSpec | None = None
    respond: dict[str, Any] | None = None
    patch: dict[str, Any] | None = None
    latency: float | None = None
    fail_stack: FailStack | None = None
    #: custom_resource rules answer custom resources (matched by type, logical id, stack),
    #: not AWS calls.
    custom_resource: CustomResourceAnswer | None = None
    resource_type: str | None = None
    logical_id: str | None = None
    stack: str | None = None
    times: int | None = None
    after: int = 0
    probability: float | None = None
    seed: int | None = None
    #: A transport fault (reset, hang, truncate, throttle_bandwidth), or None.
    transport: TransportFault | None = None
    spec: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DnsRule:
    """A sealed run's name that answers ``NXDOMAIN``, ``SERVFAIL`` or nothing (``drop``)."""

    source: str
    name: str
    answer: str
    type: str | None = None
    times: int | None = None
    after: int = 0
    spec: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SetupStep:
    source: str
    service: str
    method: str
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class CredentialsSpec:
    access_key_id: str
    secret_access_key: str
    account: str | None = None


@dataclass(frozen=True)
class CallExpectation:
    operation: str
    min: int | None = None
    max: int | None = None
    count: int | None = None
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class Expectations:
    exit_code: int | None = None
    calls: tuple[CallExpectation, ...] = ()
    no_calls: tuple[CallExpectation, ...] = ()
    stdout_contains: tuple[str, ...] = ()
    stderr_contains: tuple[str, ...] = ()
    output_contains: tuple[str, ...] = ()


Credentials = CredentialsSpec | Literal["none"] | None
