"""``make demo``: the taskcat Action, run locally the way the GitHub runner runs it, against the
embedded cloud, under three scenarios; then one table of the Action's answers.

Each run copies ``examples/taskcat-project`` into a fresh workspace, runs ``action.yml`` with
``commands: test run`` through ``motobox action`` (the Python API), and reads what the Action
answered: exit code, ``result`` output, stack status from its step summary, its first error
annotation, the artifact it uploaded and the AWS calls taskcat made.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from motobox.action import ActionResult, run_action
from motobox.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
TOOL_CACHE = ROOT / ".tools" / "toolcache"
RUNS = [
    ("create-complete", "123456789012"),
    ("create-failed", "210987654321"),
    ("no-credentials", "123456789012"),
]


def _status(result: ActionResult) -> str:
    rows = [line for line in result.summary.splitlines() if line.startswith("| ")][2:]
    return ", ".join(r.strip("|").split("|")[3].strip() for r in rows) or "-"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def main() -> int:
    if not (TOOL_CACHE / "taskcat").is_dir():
        print("motobox demo: the tool cache is empty; run `make demo`", file=sys.stderr)
        return 2
    rows = []
    for scenario, account in RUNS:
        with tempfile.TemporaryDirectory(prefix="motobox-demo-") as tmp:
            workspace = Path(tmp) / "workspace"
            shutil.copytree(
                ROOT / "examples" / "taskcat-project",
                workspace,
                ignore=shutil.ignore_patterns("taskcat_outputs"),
            )
            print(f"==> the taskcat Action under scenarios/taskcat/{scenario}.yaml", flush=True)
            started = time.monotonic()
            try:
                result = run_action(
                    ROOT,
                    {"commands": "test run"},
                    workspace=workspace,
                    tool_cache=TOOL_CACHE,
                    scenarios=[ROOT / "scenarios" / "taskcat" / f"{scenario}.yaml"],
                    account=account,
                    echo=lambda line: print(f"    {line}", flush=True),
                )
            except UsageError as exc:
                print(f"motobox demo: {exc.line()}", file=sys.stderr)
                return 2
            seconds = time.monotonic() - started
            errors = result.errors()
            artifact = result.artifacts.get("taskcat_outputs")
            files = sum(1 for p in artifact.rglob("*") if p.is_file()) if artifact else 0
            calls = len(result.journal.calls()) if result.journal else 0
            rows.append(
                [
                    scenario,
                    str(result.exit_code),
                    result.outputs.get("result", ""),
                    _status(result),
                    f"{files} files",
                    str(calls),
                    f"{seconds:.1f} s",
                    _shorten(errors[0].message.split(" ended ")[-1] if errors else "-", 70),
                ]
            )
    header = ["scenario", "exit", "result", "stack", "artifact", "calls", "time", "first error"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("\n==> the taskcat Action's answers (motobox action, embedded cloud, internet denied)")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    expected = {"create-complete": "passed", "create-failed": "failed", "no-credentials": "failed"}
    wrong = [r[0] for r in rows if r[2] != expected[r[0]]]
    if wrong:
        print(f"motobox demo: unexpected result for {', '.join(wrong)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
