"""Scenarios: what a file says (``Scenario`` here, its entries in ``model``), how it is read and
checked (``load``, against ``schema/scenario.schema.json`` and botocore's models), what it does
to calls (``rules``, ``patch``) and how a run is checked against its ``expect:`` block
(``expect``). ``combine`` makes one effective scenario of several files.

``Scenario`` lives here, apart from the entries' classes, because every cloud holds one (empty
without a file) and each frozen dataclass costs its module ~0.4 ms to build: a cloud started
without a scenario loads only this (``bench/startup_phases.py``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from motobox.sandbox.egress import Stub
    from motobox.scenario.model import Credentials, DnsRule, Expectations, Rule, SetupStep


@dataclass(frozen=True)
class Scenario:
    path: str
    name: str
    setup: tuple[SetupStep, ...] = ()
    rules: tuple[Rule, ...] = ()
    #: ``egress:`` entries: the egress control's stubs, as it applies them.
    egress: tuple[Stub, ...] = ()
    dns: tuple[DnsRule, ...] = ()
    credentials: Credentials = None
    expect: Expectations | None = None
    #: What moto does not emulate fails instead of being stubbed.
    strict: bool = False


def combine(scenarios: Sequence[Scenario]) -> Scenario:
    """One effective scenario: set-up, rules and egress in order; the last name and
    credentials win; expectations merged (a later exit code wins)."""
    if not scenarios:
        return Scenario(path="", name="")
    expect: Expectations | None = None
    for s in scenarios:
        if s.expect is None:
            continue
        if expect is None:
            expect = s.expect
            continue
        expect = dataclasses.replace(
            expect,
            exit_code=s.expect.exit_code if s.expect.exit_code is not None else expect.exit_code,
            calls=expect.calls + s.expect.calls,
            no_calls=expect.no_calls + s.expect.no_calls,
            stdout_contains=expect.stdout_contains + s.expect.stdout_contains,
            stderr_contains=expect.stderr_contains + s.expect.stderr_contains,
            output_contains=expect.output_contains + s.expect.output_contains,
        )
    credentials: Credentials = None
    for s in scenarios:
        if s.credentials is not None:
            credentials = s.credentials
    last = scenarios[-1]
    return Scenario(
        path=last.path,
        name=last.name,
        setup=tuple(x for s in scenarios for x in s.setup),
        rules=tuple(x for s in scenarios for x in s.rules),
        egress=tuple(x for s in scenarios for x in s.egress),
        dns=tuple(x for s in scenarios for x in s.dns),
        credentials=credentials,
        expect=expect,
        strict=any(s.strict for s in scenarios),
    )
