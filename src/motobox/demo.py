"""``make demo``: taskcat, unmodified, against the embedded cloud, with its journal summed up.

Runs ``taskcat test run`` on ``examples/taskcat-project`` under ``motobox run`` and prints what
taskcat printed, then the calls it made, counted by operation, and its denied egress.
"""

from __future__ import annotations

import collections
import sys
import tempfile
from pathlib import Path

from motobox.cloud import Cloud

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    taskcat = ROOT / ".tools" / "taskcat" / "bin" / "taskcat"
    project = ROOT / "examples" / "taskcat-project"
    if not taskcat.exists():
        print("motobox demo: taskcat is not installed; run `make demo`", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="motobox-demo-") as out, Cloud() as cloud:
        print(f"==> taskcat test run in {project.relative_to(ROOT)}, against {cloud.endpoint_url}")
        result = cloud.run([str(taskcat), "test", "run", "-o", out], cwd=project, capture=False)
        calls = collections.Counter(
            f"{r['service']}:{r['operation']}" for r in cloud.journal.calls()
        )
        print(
            f"\n==> taskcat exited {result.exit_code}; "
            f"the journal holds {len(cloud.journal)} records"
        )
        for op, n in sorted(calls.items()):
            print(f"    {n:3d}  {op}")
        for r in cloud.journal.egress():
            print(f"    egress {r['method']} {r['url']} -> {r['status']} ({r['action']})")
        return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
