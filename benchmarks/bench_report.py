"""Benchmark: ``cletrial report --study reference`` end to end (target <= 3 s) and its parts.

Run from the repository root::

    python3 benchmarks/bench_report.py [--repeat 5]

Prints the wall and CPU time of each run of the command in a fresh process (imports included, as
a user sees it), the median and best, the machine's load, and an in-process breakdown (imports,
claims audit, report with its figures, HTML rendering). Nothing is asserted: figures are printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 3.0


def _command_times(repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of each run of the command."""
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(repeat):
            out = Path(tmp) / f"run{run}"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "cletrial",
                    "report",
                    "--study",
                    "reference",
                    "--out",
                    str(out),
                ],
                check=True,
                capture_output=True,
            )
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            size = (out / "index.html").stat().st_size
    print(f"report size: {size / 1024:.0f} KiB (index.html, figures inline)")
    return walls, cpus


def _breakdown() -> None:
    code = """
import time
t0 = time.perf_counter()
from cletrial.analysis.report import compute_reference_report, render_report_html
from cletrial.analysis.claims import compute_claims_audit
import lifelines, matplotlib.figure, matplotlib.backends.backend_agg
t1 = time.perf_counter()
compute_claims_audit()
t2 = time.perf_counter()
report = compute_reference_report()
t3 = time.perf_counter()
render_report_html(report)
t4 = time.perf_counter()
print(f"  imports (analysis, scipy, statsmodels, lifelines, matplotlib): {t1 - t0:.2f} s")
print(f"  claims audit ({len(report.claims.results)} claims):                  {t2 - t1:.3f} s")
print(f"  reference report (tables, audit, Kaplan-Meier, 2 figures):  {t3 - t2:.2f} s")
print(f"  HTML rendering (Jinja2):                                    {t4 - t3:.3f} s")
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of the command (default 5)")
    args = parser.parse_args()
    walls, cpus = _command_times(args.repeat)
    print("cletrial report --study reference --out DIR (fresh process each run):")
    print("  wall: " + ", ".join(f"{t:.2f} s" for t in walls))
    print("  cpu:  " + ", ".join(f"{t:.2f} s" for t in cpus))
    median = statistics.median(walls)
    verdict = "within" if median <= TARGET_SECONDS else "OVER"
    print(
        f"  median wall {median:.2f} s, best {min(walls):.2f} s, median cpu "
        f"{statistics.median(cpus):.2f} s; target <= {TARGET_SECONDS:.0f} s: {verdict}"
    )
    print(
        f"  load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall "
        "times on a shared machine include waiting for the CPU"
    )
    print("in-process breakdown:")
    _breakdown()


if __name__ == "__main__":
    main()
