"""pytest plugin loaded into moto's own test run (``-p moto_suite_plugin``) by
``tools/moto_suite.py``: one JSON line per test in the file named by ``MOTO_SUITE_RECORD``.

Each line is ``{"id": nodeid, "outcome": ..., "line": ..., "s": seconds}``, written when the
test's teardown is reported (and flushed), so a lane whose server or client dies still leaves
the outcomes of every test it finished. ``outcome`` is one of ``passed``, ``failed`` (the test
body failed), ``error`` (setup or teardown failed: pytest counts a passed test with a failing
teardown as an error too), ``skipped``, ``xfailed``, ``xpassed``. ``line`` is the first line of
the failure as pytest's short summary shows it (``ExcType: message``), or a skip's reason.

It runs inside moto's test virtualenv: standard library only.
"""

from __future__ import annotations

import json
import os
from typing import Any

_RANK = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 1, "failed": 2, "error": 3}


class _Recorder:
    def __init__(self, path: str) -> None:
        self._out = open(path, "a", encoding="utf-8")  # noqa: SIM115 (lives as long as pytest)
        self._seen: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        rec = self._seen.setdefault(report.nodeid, {"outcome": "passed", "line": "", "s": 0.0})
        rec["s"] += report.duration
        outcome = _outcome(report)
        if outcome is not None and _RANK[outcome] > _RANK[rec["outcome"]]:
            rec["outcome"], rec["line"] = outcome, _first_line(report)
        elif outcome in ("xfailed", "xpassed") and rec["outcome"] == "passed":
            rec["outcome"] = outcome
        if report.when == "teardown":
            del self._seen[report.nodeid]
            row = {"id": report.nodeid, "outcome": rec["outcome"], "line": rec["line"]}
            row["s"] = round(rec["s"], 3)
            self._out.write(json.dumps(row) + "\n")
            self._out.flush()

    def pytest_unconfigure(self) -> None:
        self._out.close()


def _outcome(report: Any) -> str | None:
    """What this phase says about the test, or None when it says nothing new (a pass)."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.skipped:
        return "skipped"
    if report.failed:
        return "failed" if report.when == "call" else "error"
    return None


def _first_line(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


def pytest_configure(config: Any) -> None:
    path = os.environ.get("MOTO_SUITE_RECORD")
    if path:
        config.pluginmanager.register(_Recorder(path), "moto_suite_recorder")
