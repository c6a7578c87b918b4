"""The benchmark script runs and writes the figures it promises (no figure is asserted: speed
is shown by `make bench`, never by a timed test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

NAMES = {
    "p50_sts_ms",
    "p50_s3_put_1k_ms",
    "p95_s3_put_1k_ms",
    "throughput_rps",
    "startup_s",
    "peak_rss_mb",
}


def test_bench_quick_run_writes_every_named_figure(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench.py"), "--quick", "--rounds", "1",
         "--calls", "20", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    figures = results["figures"]
    assert "cores" in results["machine"] and "moto 5.2.5" in results["machine"]
    assert set(figures) >= NAMES
    for name in NAMES:
        f = figures[name]
        assert f["ratio"] == f["motobox"] / f["moto_server"] and f["moto_server"] > 0
    assert set(figures["floor_p50_sts"]) == {"floor", "motobox", "ratio"}
    assert set(figures["journal_rules_overhead"]) == {"off", "on", "ratio"}
    assert set(figures["seal_startup"]) == {"unsealed_s", "sealed_s", "ratio"}
    if os.geteuid() == 0:  # as root, the path of a user without privilege is measured too
        assert set(figures["seal_startup_userns"]) == {"unsealed_s", "sealed_s", "ratio"}
    for name in ("p50_lambda_invoke_ms", "lambda_cold_invoke_ms"):  # moto_server needs Docker
        assert set(figures[name]) == {"motobox"} and figures[name]["motobox"] > 0
    assert "p50_sts_ms" in done.stdout and "p50_lambda_invoke_ms" in done.stdout  # the table
