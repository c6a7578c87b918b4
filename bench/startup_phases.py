"""Where ``motobox serve``'s start-up goes, in phases: importing the CLI, importing the cloud,
starting it, and its first call (sts:GetCallerIdentity), each the median of N fresh processes
with the garbage collector paused as ``motobox serve`` pauses it.

    python bench/startup_phases.py [-n 12] [--python OTHER_CHECKOUT/.venv/bin/python ...]

Each ``--python`` is measured too, interleaved with this checkout's, so two releases can be
compared in one run (``make bench``'s start-up figure is the whole of it; this says which part
moved). Run from a checkout whose modules are compiled (``python -m compileall src``): with
``PYTHONDONTWRITEBYTECODE=1`` an edited module is compiled on every start.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

PHASES = ("import the CLI", "import the cloud", "start the cloud", "first call")

PROBE = """
import gc, time
gc.disable()
t0 = time.perf_counter()
import motobox.cli
t1 = time.perf_counter()
import motobox.cloud
t2 = time.perf_counter()
cloud = motobox.cloud.Cloud().start()
t3 = time.perf_counter()
import urllib.request
request = urllib.request.Request(
    cloud.endpoint_url + "/",
    data=b"Action=GetCallerIdentity&Version=2011-06-15",
    headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=MOTOBOX123456789012/20240101/"
        "us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0",
    },
)
t4 = time.perf_counter()
urllib.request.urlopen(request).read()
t5 = time.perf_counter()
print(*(round(1000 * d, 2) for d in (t1 - t0, t2 - t1, t3 - t2, t5 - t4)))
cloud.stop()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=12, help="processes per python (default 12)")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PY",
        help="another checkout's python to measure alongside this one",
    )
    args = parser.parse_args()
    pythons = [sys.executable, *args.python]
    runs: dict[str, list[list[float]]] = {p: [] for p in pythons}
    for _ in range(args.n):
        for python in pythons:
            done = subprocess.run(
                [python, "-c", PROBE], capture_output=True, text=True, cwd=Path(python).parent
            )
            if done.returncode != 0:
                print(f"startup_phases: {python} failed: {done.stderr.strip()[-500:]}")
                return 1
            runs[python].append([float(x) for x in done.stdout.split()])
    print(f"{'python':<50}" + "".join(f"{p:>18}" for p in PHASES) + f"{'total':>10}")
    for python, rows in runs.items():
        medians = [statistics.median(row[i] for row in rows) for i in range(len(PHASES))]
        cells = "".join(f"{m:>15.1f} ms" for m in medians)
        print(f"{python[-50:]:<50}{cells}{sum(medians):>7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
