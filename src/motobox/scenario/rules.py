"""The scenario runtime: decides, call by call, whether a rule changes the answer.

``RuleEngine.wrap(backend)`` is the gateway's rule layer (``aws.gateway``). For each identified call
it walks the rules in order (rules added while the cloud runs first, the most recently added
first, then the scenario's); the first rule that matches *and fires* decides:

    match (service, operation, region, account, params subset)
      -> modifiers: ``after`` (let the first N matching calls through), ``times`` (fire at
         most N times), ``probability`` (a draw from the rule's own ``random.Random(seed)``,
         one draw per matching call, in the order calls arrive)
      -> effects: ``latency`` (sleep, then go on), then one of
           ``error``      answer an AWS error in the request's wire protocol
           ``respond``    answer a whole output, serialized in the request's wire protocol
           ``patch``      let the backend answer, parse it, change fields, serialize it again
           ``fail_stack`` let moto create the stack, then change moto's state so the stack and
                          the named resource are CREATE_FAILED with the reason, for every read
                          that follows (``motobox.emulation.cloudformation``: every read agrees)
           ``reset``      no answer: ``before`` (moto never sees the call) or ``after`` moto
                          acted; the connection is reset
           ``hang``       no answer, moto never sees the call; the connection is held
      -> transport: ``truncate`` and ``throttle_bandwidth`` shape the answer above (moto's,
         or the rule's error/respond/patch) on its way out. The engine only describes a fault
         (``Answer.delivery``); the HTTP layer below every handler delivers it
         (``transport.http.Delivery``), so it is the same on the cloud's port, in a proxy
         tunnel and on a sealed run's 443, and the gateway journals the call once it is
         delivered, with what the client got.
``custom_resource`` rules match no call: the stack engine asks ``select_custom_resource`` when a
custom resource's request goes out, and the first such rule that matches its type, logical id
and stack (and fires) answers it instead of the function.
A rule that matches but does not fire (``after``/``times``/``probability``) lets the next rules
try. The answer carries ``forced = rule.source`` for the journal.

``dns`` rules match a sealed run's DNS questions (``select_dns``, asked by ``sandbox.seal``) by
name and type, with ``times`` and ``after``: NXDOMAIN, SERVFAIL or no answer.

Rules change while the cloud runs (``live``): ``add_live(key, rules, dns)`` puts a change's
rules in front, ``remove_live(key)`` takes them out. The rules are walked from one tuple that
each change replaces whole (``_order``), so a call never sees half a change and a cloud
without rules pays one truth test per call.

Serialization and parsing use ``wire`` (botocore's models and parsers); a rule's ``service``
matches every service that shares the wire API (``identify.services_sharing_wire_api``).
``wire``, ``patch`` and the stack failure are imported when a rule first fires: every cloud has
an engine, and one without rules (most ``serve`` and ``run`` without a scenario) never loads
them before it answers (start-up, ``bench/startup_phases.py``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from motobox.aws.gateway import Answer, Backend, Exchange
from motobox.aws.identify import Call, services_sharing_wire_api
from motobox.aws.models import environ_protocol, service_model
from motobox.journal import subset
from motobox.transport.http import Delivery

if TYPE_CHECKING:
    from motobox.aws import wire
    from motobox.scenario.model import DnsRule, Rule, TransportFault


@dataclass(eq=False)  # a rule's state is itself: compared by identity
class _RuleState:
    rule: Rule
    services: frozenset[str] | None
    seen: int = 0
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random)


@dataclass(eq=False)
class _DnsState:
    rule: DnsRule
    seen: int = 0
    fired: int = 0


def _state(rule: Rule) -> _RuleState:
    state = _RuleState(rule, _expand_services(rule.services))
    state.rng.seed(rule.seed if rule.seed is not None else 0)
    return state


def delivery(fault: TransportFault) -> Delivery:
    """The transport's ``Delivery`` for a rule's (or an egress stub's) fault."""
    return Delivery(
        reset=fault.reset is not None,
        hang=fault.hang,
        truncate=fault.truncate,
        rate=fault.throttle_bandwidth,
    )


def _expand_services(services: frozenset[str] | None) -> frozenset[str] | None:
    if not services:
        return None
    out: set[str] = set()
    for name in services:
        out |= services_sharing_wire_api(name) or {name}
    return frozenset(out)


class RuleEngine:
    """Applies a scenario's rules to calls; thread-safe; one per cloud."""

    def __init__(
        self,
        rules: Sequence[Rule] = (),
        *,
        dns: Sequence[DnsRule] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._states = [_state(rule) for rule in rules]
        self._dns_states = [_DnsState(rule) for rule in dns]
        #: Changes made while the cloud runs, the most recent first: (key, rules, dns).
        self._live: list[tuple[str, list[_RuleState], list[_DnsState]]] = []
        self._order: tuple[_RuleState, ...] = tuple(self._states)
        self._dns_order: tuple[_DnsState, ...] = tuple(self._dns_states)
        self._lock = threading.Lock()
        self._sleep = sleep

    def __len__(self) -> int:
        return len(self._order)

    # -- rules that change while the cloud runs ------------------------------------------
    def add_live(self, key: str, rules: Sequence[Rule], dns: Sequence[DnsRule] = ()) -> None:
        """Consult ``rules`` (and ``dns``) before every other rule until ``remove_live(key)``."""
        with self._lock:
            self._live.insert(0, (key, [_state(r) for r in rules], [_DnsState(d) for d in dns]))
            self._reorder()

    def remove_live(self, key: str) -> dict[str, int] | None:
        """Take a change's rules out; how often each fired (by source), or None if unknown."""
        with self._lock:
            for i, (known, states, dns) in enumerate(self._live):
                if known == key:
                    del self._live[i]
                    self._reorder()
                    both: list[_RuleState | _DnsState] = [*states, *dns]
                    return {s.rule.source: s.fired for s in both}
        return None

    def live_counts(self, key: str) -> dict[str, dict[str, int]]:
        """How often each rule of a change matched (``seen``) and fired."""
        with self._lock:
            for known, states, dns in self._live:
                if known == key:
                    both: list[_RuleState | _DnsState] = [*states, *dns]
                    return {s.rule.source: {"seen": s.seen, "fired": s.fired} for s in both}
        return {}

    def _reorder(self) -> None:
        """The order rules are consulted in, replaced whole (called under the lock)."""
        self._order = tuple(s for _, states, _ in self._live for s in states) + tuple(self._states)
        self._dns_order = tuple(d for _, _, dns in self._live for d in dns) + tuple(
            self._dns_states
        )

    # -- choosing a rule -----------------------------------------------------------------
    @staticmethod
    def _matches(state: _RuleState, call: Call, account: str) -> bool:
        rule = state.rule
        if rule.custom_resource is not None:
            return False
        if state.services is not None and call.service not in state.services:
            return False
        if rule.operation is not None and call.operation != rule.operation:
            return False
        if rule.region is not None and call.region != rule.region:
            return False
        if rule.account is not None and account != rule.account:
            return False
        return not (rule.params and not subset(rule.params, call.params or {}))

    def select(self, call: Call, account: str) -> Rule | None:
        """The rule that decides this call's answer, or None for the backend's own answer."""
        with self._lock:
            for state in self._order:
                if not self._matches(state, call, account):
                    continue
                if self._fires(state):
                    return state.rule
        return None

    def select_dns(self, name: str, qtype: str) -> DnsRule | None:
        """The ``dns`` rule that answers this question of a sealed run, or None."""
        if not self._dns_order:
            return None
        from fnmatch import fnmatchcase

        name = name.lower().rstrip(".")
        with self._lock:
            for state in self._dns_order:
                rule = state.rule
                if rule.type is not None and rule.type != qtype:
                    continue
                if not fnmatchcase(name, rule.name):
                    continue
                state.seen += 1
                if state.seen <= rule.after:
                    continue
                if rule.times is not None and state.fired >= rule.times:
                    continue
                state.fired += 1
                return rule
        return None

    @staticmethod
    def _fires(state: _RuleState) -> bool:
        """A matching call counts; whether the rule fires for it (``after``, ``times``,
        ``probability``). Called under the lock."""
        rule = state.rule
        state.seen += 1
        if state.seen <= (rule.after or 0):
            return False
        if rule.times is not None and state.fired >= rule.times:
            return False
        if rule.probability is not None and state.rng.random() >= rule.probability:
            return False
        state.fired += 1
        return True

    def select_custom_resource(
        self, resource_type: str, logical_id: str, stack: str, account: str, region: str
    ) -> Rule | None:
        """The ``custom_resource`` rule that answers this custom resource's request, or None
        for its function."""
        from fnmatch import fnmatchcase

        with self._lock:
            for state in self._order:
                rule = state.rule
                if rule.custom_resource is None:
                    continue
                wanted = (
                    (rule.resource_type, resource_type),
                    (rule.logical_id, logical_id),
                    (rule.stack, stack),
                )
                if any(want is not None and not fnmatchcase(got, want) for want, got in wanted):
                    continue
                if (rule.region is not None and rule.region != region) or (
                    rule.account is not None and rule.account != account
                ):
                    continue
                if self._fires(state):
                    return rule
        return None

    # -- answering -----------------------------------------------------------------------
    def wrap(self, backend: Backend) -> Backend:
        """This engine as a layer around ``backend`` (``aws.gateway``'s composition)."""

        def layer(exchange: Exchange) -> Answer:
            return self.handle(exchange, backend)

        return layer

    def handle(self, exchange: Exchange, backend: Backend) -> Answer:
        call = exchange.call
        if not self._order or exchange.setup or not call.operation:
            return backend(exchange)
        rule = self.select(call, exchange.account)
        if rule is None:
            return backend(exchange)
        if rule.latency:
            self._sleep(rule.latency)
        fault = rule.transport
        if fault is not None and not fault.backend_acts:
            answer = Answer(0, [], b"")  # never sent: the connection is reset or held
        elif rule.error is not None:
            answer = self._error(rule, exchange)
        elif rule.respond is not None:
            from motobox.aws import wire

            answer = self._answer(
                wire.serialize_response(_operation(call), _protocol(exchange), rule.respond or {})
            )
        elif rule.patch:
            answer = self._patch(rule, exchange, backend)
        elif rule.fail_stack is not None:
            answer = backend(exchange)
            if answer.status < 300:
                from motobox.emulation.cloudformation.failures import fail_stack

                fail_stack(
                    exchange.account,
                    call.region or "us-east-1",
                    (call.params or {})["StackName"],
                    rule.fail_stack.reason,
                    rule.fail_stack.resource,
                )
        else:
            answer = backend(exchange)
        answer.forced = rule.source
        if fault is not None:
            answer.delivery = delivery(fault)
            answer.transport = fault.label()
            if fault.reset == "after":
                answer.transport["backend_status"] = answer.status
        return answer

    @staticmethod
    def _answer(response: wire.WireResponse) -> Answer:
        return Answer(response.status, list(response.headers.items()), response.body)

    def _error(self, rule: Rule, exchange: Exchange) -> Answer:
        from motobox.aws import wire

        spec = rule.error
        assert spec is not None
        response = wire.serialize_error(
            _operation(exchange.call), _protocol(exchange), spec.code, spec.message, spec.status
        )
        answer = self._answer(response)
        if spec.headers:
            wanted = {name.lower() for name in spec.headers}
            answer.headers = [(k, v) for k, v in answer.headers if k.lower() not in wanted]
            answer.headers += list(spec.headers.items())
        return answer

    def _patch(self, rule: Rule, exchange: Exchange, backend: Backend) -> Answer:
        answer = backend(exchange)
        if answer.status >= 300:
            return answer
        from motobox.aws import wire
        from motobox.scenario.patch import apply_patch

        operation = _operation(exchange.call)
        protocol = _protocol(exchange)
        real = wire.parse_response(
            operation,
            protocol,
            wire.WireResponse(answer.status, dict(answer.headers), answer.body),
        )
        for path, value in (rule.patch or {}).items():
            apply_patch(real, path, value)
        return self._answer(wire.serialize_response(operation, protocol, real))


def _operation(call: Call) -> Any:
    assert call.service and call.operation
    return service_model(call.service).operation_model(call.operation)


def _protocol(exchange: Exchange) -> str:
    call = exchange.call
    if call.protocol:
        return call.protocol
    body = exchange.body if isinstance(exchange.body, bytes) else b""
    return environ_protocol(call.service or "", exchange.environ, body)
