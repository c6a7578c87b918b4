"""The journal: one record per call the program made, in the order they were answered.

Every layer that sees a call (the AWS gateway, the egress proxy, the DNS server of a sealed
run) appends a plain ``dict`` here; the journal numbers it (``seq``), keeps it in memory for
assertions and, when given a path, writes it at once as one JSON line so nothing is lost when
the program or motobox dies.

Records follow docs/ARCHITECTURE.md: ``kind`` is ``aws``, ``egress``, ``dns``, ``cfn`` or
``control``, and a sealed run's first record is ``seal`` (``path``: ``root`` or ``userns``,
``uid``, ``gid``); AWS records carry ``service``, ``operation``, ``region``, ``account``,
``status``, ``error``, ``forced``, ``ms`` and ``params``, and ``transport`` when a rule's
transport fault delivered the answer (written once delivered: what the client got); ``cfn``
records (the stack engine, ``emulation.cloudformation``) tell stack operations, resources moto
does not emulate and custom resource answers; ``control`` records each change of the rules
while the cloud runs (``live``). The published JSON Schema, versioned, is
``scenario/schema/journal-1.schema.json``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

Record = dict[str, Any]


def _split_operation(spec: str) -> tuple[str | None, str]:
    """``"cloudformation:CreateStack"`` -> ``("cloudformation", "CreateStack")``."""
    if ":" in spec:
        service, operation = spec.split(":", 1)
        return service or None, operation
    return None, spec


def subset(wanted: Any, actual: Any) -> bool:
    """True when ``wanted`` is contained in ``actual`` (dicts by key, lists element-wise)."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            k in actual and subset(v, actual[k]) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(wanted) <= len(actual)
            and all(subset(w, a) for w, a in zip(wanted, actual, strict=False))
        )
    return bool(wanted == actual)


class Journal:
    """Thread-safe, append-only record of calls; optionally mirrored to a JSON Lines file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._records: list[Record] = []
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self.path = Path(path) if path else None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8")

    def append(self, record: Record) -> Record:
        with self._lock:
            record = {"seq": len(self._records) + 1, **record}
            self._records.append(record)
            if self._file:
                self._file.write(json.dumps(record, default=str, separators=(", ", ": ")) + "\n")
                self._file.flush()
        return record

    def close(self) -> None:
        with self._lock:
            if self._file:
                self._file.close()
                self._file = None

    # -- reading -------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Record]:
        with self._lock:
            return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)

    @property
    def records(self) -> list[Record]:
        with self._lock:
            return list(self._records)

    def calls(
        self,
        operation: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        include_setup: bool = False,
        **fields: Any,
    ) -> list[Record]:
        """AWS calls, optionally of one ``"service:Operation"`` (or bare ``"Operation"``), whose
        ``params`` contain ``params`` and whose other fields equal ``fields``. Calls made by a
        scenario's ``setup:`` are left out unless ``include_setup``."""
        service, op = _split_operation(operation) if operation else (None, None)
        out = []
        for r in self.records:
            if r.get("kind") != "aws" or (r.get("setup") and not include_setup):
                continue
            if op and r.get("operation") != op:
                continue
            if service and r.get("service") != service:
                continue
            if params and not subset(params, r.get("params") or {}):
                continue
            if any(r.get(k) != v for k, v in fields.items()):
                continue
            out.append(r)
        return out

    def egress(self, host: str | None = None) -> list[Record]:
        """Egress records, optionally only those whose URL names ``host``."""
        out = []
        for r in self.records:
            if r.get("kind") != "egress":
                continue
            if host and f"://{host}" not in str(r.get("url", "")):
                continue
            out.append(r)
        return out

    def dns(self, name: str | None = None) -> list[Record]:
        return [
            r
            for r in self.records
            if r.get("kind") == "dns" and (name is None or r.get("name", "").rstrip(".") == name)
        ]

    def operations(self) -> list[str]:
        """``["sts:GetCallerIdentity", ...]`` in call order: handy in assertion messages."""
        return [f"{r.get('service')}:{r.get('operation')}" for r in self.calls()]
