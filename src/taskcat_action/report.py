"""Reads what taskcat wrote into ``taskcat_outputs`` and turns it into a report.

taskcat 0.9.58 writes ``index.html`` (one table row per stack: test, region, stack name,
status) and, per stack, ``<stack>-<region>-cfnlogs.txt`` with the stack's events as a
``tabulate`` table. From them: one ``StackResult`` per stack, with the failure reason of a
failed stack taken from its failed resource's event (the stack-level reason only says
"The following resource(s) failed to create").

Also: ``mask_files`` replaces the account id by ``***`` in every file under the folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

MASK = "***"


@dataclass
class StackResult:
    test: str
    region: str
    stack: str
    status: str
    reason: str = ""

    @property
    def failed(self) -> bool:
        return self.status != "CREATE_COMPLETE"


class _RowParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if len(self._row) == 5:
                self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _events(text: str) -> list[dict[str, str]]:
    """The rows of the ``tabulate`` events table in a cfnlogs file."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("TimeStamp") and i + 1 < len(lines) and set(lines[i + 1]) <= {"-", " "}:
            rule = lines[i + 1]
            spans, start = [], None
            for j, ch in enumerate(rule + " "):
                if ch == "-" and start is None:
                    start = j
                elif ch == " " and start is not None:
                    spans.append((start, j))
                    start = None
            names = [line[a:b].strip() for a, b in spans]
            rows = []
            for row in lines[i + 2 :]:
                if not row.strip() or row.startswith("*"):
                    break
                # The last column runs to the end of the line.
                cells = [row[a:b].strip() for a, b in spans[:-1]] + [row[spans[-1][0] :].strip()]
                rows.append(dict(zip(names, cells, strict=False)))
            return rows
    return []


def failure_reason(cfnlog: Path, stack: str) -> str:
    try:
        text = cfnlog.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    events = _events(text)
    for event in reversed(events):  # oldest first: the first resource that failed
        if (
            event.get("ResourceStatus", "").endswith("_FAILED")
            and event.get("LogicalResourceId") != stack
            and event.get("ResourceStatusReason")
        ):
            return event["ResourceStatusReason"]
    for event in events:
        if event.get("ResourceStatusReason"):
            return event["ResourceStatusReason"]
    return text.strip().splitlines()[0] if text.strip() and not events else ""


def read_results(outputs: Path, *, since: float = 0.0) -> list[StackResult]:
    """The stacks of taskcat's report, when taskcat wrote it at ``since`` (epoch seconds) or
    later: a report left from an earlier run says nothing about this one."""
    index = outputs / "index.html"
    try:
        if index.stat().st_mtime < since:
            return []
        html = index.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    parser = _RowParser()
    parser.feed(html)
    results = []
    for test, region, stack, status, _logs in parser.rows:
        result = StackResult(test, region, stack, status)
        if result.failed:
            result.reason = failure_reason(outputs / f"{stack}-{region}-cfnlogs.txt", stack)
        results.append(result)
    return results


def summary_markdown(results: list[StackResult], *, passed: bool, commands: str) -> str:
    icon = "✅" if passed else "❌"
    lines = [f"### {icon} taskcat {commands}", ""]
    if results:
        lines += ["| Test | Region | Stack | Status | Reason |", "| --- | --- | --- | --- | --- |"]
        for r in results:
            reason = r.reason.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {r.test} | {r.region} | {r.stack} | {r.status} | {reason} |")
    else:
        lines.append("taskcat wrote no stack results.")
    return "\n".join(lines) + "\n"


def mask_files(folder: Path, secret: str) -> int:
    """Replace ``secret`` by ``***`` in every file under ``folder``; returns files changed."""
    if not secret or not folder.is_dir():
        return 0
    changed = 0
    needle = secret.encode()
    for path in folder.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if needle in data:
            path.write_bytes(data.replace(needle, MASK.encode()))
            changed += 1
    return changed
