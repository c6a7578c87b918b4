"""What a run did not emulate, in a few lines, read from its journal.

    lines(records) -> ["stack app: 2 of 17 resources not emulated by moto: AWS::ACM::...",
                       "stack app: still CREATE_IN_PROGRESS when the program ended",
                       "3 calls to operations moto does not emulate were answered empty: ..."]

``motobox run`` and ``motobox action`` print these after the program, prefixed with
``motobox:``; the taskcat Action (``mock: true``) adds them to its step summary from the journal
file. The journal's ``cfn`` records (``engine``) and the ``emulation`` flag of ``aws`` records
(``aws.failure``) are the only input, so this module uses the standard library alone: the
Action imports it beside a taskcat that has no moto.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def read(path: str | Path) -> list[dict[str, Any]]:
    """The records of a journal file (lines that are not JSON objects are skipped)."""
    out = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def _counted(names: Iterable[str]) -> str:
    counts = Counter(names)
    return ", ".join(f"{name} ({n})" if n > 1 else name for name, n in counts.items())


def _label(kind_and_parts: list[str]) -> str:
    kind, *parts = kind_and_parts
    return f"{kind} ({', '.join(parts)})" if parts else kind


def lines(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per stack that has resources moto did not emulate or that was still in
    progress, and one per kind of not-emulated operation call."""
    stacks: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    operations: dict[str, Counter[str]] = {
        "stubbed": Counter(),
        "refused": Counter(),
        "partial": Counter(),
    }
    for record in records:
        kind = record.get("kind")
        if kind == "aws" and record.get("emulation") in operations:
            label = str(record.get("service"))
            if record.get("operation"):  # none: a URL moto has no handler for
                label += f":{record['operation']}"
            operations[record["emulation"]][label] += 1
            continue
        if kind != "cfn":
            continue
        key = str(record.get("stack_id") or record.get("stack"))
        if key not in stacks:
            stacks[key] = {
                "name": record.get("stack"),
                "region": record.get("region"),
                "stubbed": {},
                "refused": {},
                "status": None,
                "resources": None,
            }
            order.append(key)
        info = stacks[key]
        event = record.get("event")
        if event == "stack":
            info["status"] = record.get("status")
            if record.get("resources") is not None:
                info["resources"] = record["resources"]
        elif event == "resource" and record.get("emulation") in ("stubbed", "refused"):
            # every part of one resource in one label: "AWS::S3::Bucket (A, B)"
            kind_and_parts = info[record["emulation"]].setdefault(
                str(record.get("logical_id")), [str(record.get("type"))]
            )
            if record.get("part") and record["part"] not in kind_and_parts:
                kind_and_parts.append(str(record["part"]))
    names = Counter(str(stacks[k]["name"]) for k in order)
    out = []
    for key in order:
        info = stacks[key]
        name = str(info["name"])
        label = f"stack {name}" + (f" ({info['region']})" if names[name] > 1 else "")
        if info["stubbed"]:
            total = info["resources"] if info["resources"] is not None else "?"
            count = len(info["stubbed"])
            out.append(
                f"{label}: {count} of {total} resources not emulated by moto: "
                + _counted(map(_label, info["stubbed"].values()))
            )
        if info["refused"]:
            out.append(
                f"{label}: {len(info['refused'])} resources failed because moto does not "
                f"emulate them (strict): " + _counted(map(_label, info["refused"].values()))
            )
        status = str(info["status"] or "")
        if status.endswith("_IN_PROGRESS"):
            out.append(f"{label}: still {status} when the program ended")
    if operations["stubbed"]:
        total = sum(operations["stubbed"].values())
        out.append(
            f"{total} calls to operations moto does not emulate were answered empty: "
            + _counted_from(operations["stubbed"])
        )
    if operations["partial"]:
        total = sum(operations["partial"].values())
        out.append(
            f"{total} calls were answered without moto doing the work (see the journal's "
            "message): " + _counted_from(operations["partial"])
        )
    if operations["refused"]:
        total = sum(operations["refused"].values())
        out.append(
            f"{total} calls to operations moto does not emulate were refused "
            "(NotImplemented, 501): " + _counted_from(operations["refused"])
        )
    return out


def _counted_from(counter: Counter[str]) -> str:
    return ", ".join(f"{name} ({n})" if n > 1 else name for name, n in counter.items())
