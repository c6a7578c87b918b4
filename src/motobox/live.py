"""Rules that change while a cloud runs: ``cloud.rules`` in Python, ``/_motobox/rules`` over HTTP.

    cloud.rules.add(spec)          POST /_motobox/rules  (JSON: one rule, a list of rules, or
                                   {"name", "rules", "egress", "dns"})
      -> scenario.load.load_change   checked as a scenario file is: the same one-line problems
                                     (``ScenarioError``; HTTP 400 with them)
      -> a change, id "1", "2", ...: its rules and DNS rules go in front of the rule engine's
         (``RuleEngine.add_live``), its egress stubs in front of the proxy's
         (``EgressProxy.add_live``); the most recent change is consulted first, then the
         older ones, then the scenario's. A forced answer names ``live:ID#rules[N]`` (or the
         change's own ``name``)
      -> journal {"kind": "control", "change": "add", "id", "name", "sources", "via"}
    change.remove() / with ...:    DELETE /_motobox/rules/ID
      -> out of the engine and the proxy; journal {"kind": "control", "change": "remove",
         "id", "fired"}
    cloud.rules.list()             GET /_motobox/rules
      -> each change: id, name, sources, how often each rule matched (``seen``) and fired

A change takes effect for the next call the cloud receives: the engine replaces its order of
rules whole under its lock, so a call in flight sees the old rules or the new ones, never half.

``LiveRules`` changes a cloud of this process (``Cloud.rules``); ``RemoteRules`` is the same
interface over the control API (``control.CloudClient``), for a cloud another process serves
(``attach.AttachedCloud.rules``, which also sends a ``--scenario``'s rules, egress stubs and DNS
rules there for the run's duration). Both hand out ``RuleChange`` handles.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from motobox.errors import UsageError
from motobox.journal import Journal
from motobox.sandbox.egress import Stub

if TYPE_CHECKING:
    from motobox.control import CloudClient
    from motobox.sandbox.egress import EgressProxy
    from motobox.scenario import Scenario
    from motobox.scenario.model import DnsRule, Rule
    from motobox.scenario.rules import RuleEngine


def _sources(scenario: Scenario) -> list[str]:
    items: list[Rule | Stub | DnsRule] = [*scenario.rules, *scenario.egress, *scenario.dns]
    return [x.source or "" for x in items]


class Rules(Protocol):
    """What ``Cloud.rules`` offers, in this process (``LiveRules``) or over HTTP
    (``RemoteRules``)."""

    def add(self, spec: Any) -> RuleChange: ...

    def list(self) -> list[dict[str, Any]]: ...

    def remove(self, change_id: str) -> dict[str, Any]: ...


class RuleChange:
    """One change made to a running cloud's rules; ``remove()`` (or leaving a ``with`` block)
    takes it out again."""

    def __init__(self, info: dict[str, Any], remove: Callable[[str], Any]) -> None:
        self.id: str = str(info["id"])
        self.name: str = str(info.get("name") or "")
        #: What forced answers of this change are journaled as (``forced``).
        self.sources: list[str] = list(info.get("sources") or [])
        self._remove = remove
        self._removed = False

    def remove(self) -> None:
        """End the change (once; later calls do nothing)."""
        if not self._removed:
            self._removed = True
            self._remove(self.id)

    def __enter__(self) -> RuleChange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"RuleChange(id={self.id!r}, sources={self.sources!r})"


def _text(spec: Any) -> str:
    """A change given from Python (a dict or list, or JSON text) as JSON text."""
    if isinstance(spec, str | bytes):
        return spec.decode("utf-8", "replace") if isinstance(spec, bytes) else spec
    try:
        return json.dumps(spec)
    except (TypeError, ValueError) as exc:
        from motobox.scenario.load import ScenarioError

        raise ScenarioError(
            [f"cloud.rules.add:1:1: {exc}; give plain JSON values (dict, list, str, numbers)"]
        ) from None


class LiveRules:
    """The rules of a cloud in this process, changed while it runs (module docstring)."""

    def __init__(self, engine: RuleEngine, proxy: EgressProxy | None, journal: Journal) -> None:
        self.engine = engine
        self.proxy = proxy
        self.journal = journal
        self._ids = itertools.count(1)
        self._changes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    # -- the Python interface -------------------------------------------------------------
    def add(self, spec: Any) -> RuleChange:
        """Add rules (a rule's mapping, a list of them, or ``{"rules", "egress", "dns"}``);
        ``ScenarioError`` (one line a problem) when they are not valid."""
        return RuleChange(
            self.apply(_text(spec), where="cloud.rules.add", via="python"), self.remove
        )

    def list(self) -> list[dict[str, Any]]:
        """The changes in force, the most recent first, with how often each rule fired."""
        with self._lock:
            changes = list(self._changes.values())
        return [
            {**info, "counts": self.engine.live_counts(info["id"])} for info in reversed(changes)
        ]

    def remove(self, change_id: str, *, via: str = "python") -> dict[str, Any]:
        """End a change; what it did (``fired`` by source). ``UsageError`` for an unknown id."""
        with self._lock:
            info = self._changes.pop(str(change_id), None)
        if info is None:
            known = ", ".join(self._changes) or "none"
            raise UsageError(
                f"no rule change {change_id!r} in force (in force: {known}); "
                "GET /_motobox/rules lists them"
            )
        fired = self.engine.remove_live(info["id"]) or {}
        if self.proxy is not None:
            self.proxy.remove_live(info["id"])
        self.journal.append(
            {"kind": "control", "change": "remove", "id": info["id"], "fired": fired, "via": via}
        )
        return {"id": info["id"], "removed": True, "fired": fired}

    # -- shared by Python and HTTP --------------------------------------------------------
    def apply(self, text: str, *, where: str, via: str) -> dict[str, Any]:
        """Check a change (JSON text) and put it in force; its id, name and sources."""
        with self._lock:
            change_id = str(next(self._ids))
        from motobox.scenario.load import load_change  # the loader, once a rule is added

        scenario = load_change(text, where, name=f"live:{change_id}")
        info = {
            "id": change_id,
            "name": scenario.name,
            "sources": _sources(scenario),
            "via": via,
        }
        with self._lock:
            self._changes[change_id] = info
        # Journaled before it takes effect: the record comes before any answer it forces.
        self.journal.append({"kind": "control", "change": "add", **info})
        if self.proxy is not None and scenario.egress:
            self.proxy.add_live(change_id, list(scenario.egress))
        self.engine.add_live(change_id, scenario.rules, scenario.dns)
        return info

    def http(self, method: str, rest: str, body: bytes) -> tuple[int, Any]:
        """``/_motobox/rules[/ID]``: GET lists, POST adds, DELETE ID removes."""
        rest = rest.strip("/")
        if method == "GET" and not rest:
            return 200, self.list()
        if method == "POST" and not rest:
            text = body.decode("utf-8", "replace")
            return 201, self.apply(text, where="_motobox/rules", via="http")
        if method == "DELETE" and rest:
            try:
                return 200, self.remove(rest, via="http")
            except UsageError as exc:
                return 404, {"error": exc.line()}
        return 405, {
            "error": f"{method} /_motobox/rules/{rest} is not served; GET /_motobox/rules, "
            "POST /_motobox/rules (JSON), DELETE /_motobox/rules/ID"
        }


class RemoteRules:
    """``LiveRules``' interface for a cloud another process serves, over its control API."""

    def __init__(self, client: CloudClient) -> None:
        self.client = client

    def add(self, spec: Any) -> RuleChange:
        return RuleChange(self.client.add_rules(_text(spec)), self.remove)

    def list(self) -> list[dict[str, Any]]:
        return self.client.rules()

    def remove(self, change_id: str) -> dict[str, Any]:
        return self.client.remove_rules(change_id)


def changes_of(scenario: Scenario) -> Sequence[dict[str, Any]]:
    """A scenario's rules, egress stubs and DNS rules as changes for a running cloud: one per
    file they come from (named by it, so that forced answers name ``FILE#rules[N]`` as in an
    embedded run), in the order to send them (the last file first: the most recent change is
    consulted first, so the first file wins as it does in a scenario)."""
    files: dict[str, dict[str, list[Any]]] = {}
    for kind, items in (
        ("rules", scenario.rules),
        ("egress", scenario.egress),
        ("dns", scenario.dns),
    ):
        for item in items:
            name = (item.source or "").rsplit("#", 1)[0]
            if item.spec is None:
                raise UsageError(
                    f"{item.source} was not loaded from a scenario file; a running cloud takes "
                    "rules as a scenario writes them (cloud.rules.add({...}))"
                )
            files.setdefault(name, {"rules": [], "egress": [], "dns": []})[kind].append(item.spec)
    return [
        {"name": name, **{k: v for k, v in kinds.items() if v}}
        for name, kinds in reversed(list(files.items()))
    ]
