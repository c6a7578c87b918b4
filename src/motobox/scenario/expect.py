"""Checks a scenario's ``expect:`` block against what the program did.

Input: the combined ``scenario.Expectations``, the program's exit code and output, and the
journal. Output: a ``Report`` with one ``Outcome`` per expectation (passed or not, and what the
journal or the program actually showed), printable for people and writable as JUnit XML for
CI systems.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from motobox.journal import Journal
from motobox.scenario.model import Expectations


@dataclass
class Outcome:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]

    def text(self) -> str:
        lines = []
        for o in self.outcomes:
            mark = "ok  " if o.passed else "FAIL"
            lines.append(
                f"{mark} {o.name}" + (f": {o.detail}" if o.detail and not o.passed else "")
            )
        total, failed = len(self.outcomes), len(self.failures)
        lines.append(
            f"motobox: {total - failed} of {total} expectations hold"
            + ("" if not failed else f"; {failed} failed")
        )
        return "\n".join(lines)

    def write_junit(self, path: str | Path, suite: str = "motobox") -> None:
        root = ET.Element(
            "testsuite",
            name=suite,
            tests=str(len(self.outcomes)),
            failures=str(len(self.failures)),
        )
        for o in self.outcomes:
            case = ET.SubElement(root, "testcase", classname=suite, name=o.name)
            if not o.passed:
                ET.SubElement(case, "failure", message=o.detail).text = o.detail
        ET.ElementTree(root).write(Path(path), encoding="utf-8", xml_declaration=True)


def _count_text(n: int) -> str:
    return f"{n} call" + ("" if n == 1 else "s")


def _seen(journal: Journal, operation: str) -> str:
    """What the journal holds, for a failure message: the operations of that service, in order."""
    service = operation.split(":", 1)[0] if ":" in operation else None
    ops = [op for op in journal.operations() if service is None or op.startswith(service + ":")]
    if not ops:
        return "the journal holds no such calls" + (
            f" (it holds {len(journal.calls())} AWS calls)" if journal.calls() else ""
        )
    shown = ", ".join(ops[:12]) + (" ..." if len(ops) > 12 else "")
    return f"the journal holds {shown}"


def check(
    expect: Expectations, *, exit_code: int, stdout: str, stderr: str, journal: Journal
) -> Report:
    report = Report()
    if expect.exit_code is not None:
        report.outcomes.append(
            Outcome(
                f"exit_code == {expect.exit_code}",
                exit_code == expect.exit_code,
                f"the program exited {exit_code}",
            )
        )
    for c in expect.calls:
        n = len(journal.calls(c.operation, params=c.params))
        what = c.operation + (f" with {c.params}" if c.params else "")
        if c.count is not None:
            ok, want = n == c.count, f"exactly {c.count}"
        else:
            low = c.min if c.min is not None else 1
            ok = n >= low and (c.max is None or n <= c.max)
            want = f"at least {low}" + (f" and at most {c.max}" if c.max is not None else "")
        report.outcomes.append(
            Outcome(
                f"calls {what}: {want}",
                ok,
                f"saw {_count_text(n)}; {_seen(journal, c.operation)}",
            )
        )
    for c in expect.no_calls:
        n = len(journal.calls(c.operation, params=c.params))
        what = c.operation + (f" with {c.params}" if c.params else "")
        report.outcomes.append(Outcome(f"no calls {what}", n == 0, f"saw {_count_text(n)}"))
    for text in expect.stdout_contains:
        report.outcomes.append(
            Outcome(f"stdout contains {text!r}", text in stdout, "not found in stdout")
        )
    for text in expect.stderr_contains:
        report.outcomes.append(
            Outcome(f"stderr contains {text!r}", text in stderr, "not found in stderr")
        )
    for text in expect.output_contains:
        report.outcomes.append(
            Outcome(
                f"output contains {text!r}",
                text in stdout or text in stderr,
                "found in neither stdout nor stderr",
            )
        )
    return report
