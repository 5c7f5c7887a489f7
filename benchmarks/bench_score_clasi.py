"""Benchmark: score a JSON Lines file of CLASI forms through the real command line.

Generates N random valid CLASI forms (seeded), then runs ``cletrial score clasi FILE --json``
as a subprocess with its output sent to /dev/null, and prints forms per second and the child's
peak resident memory. Run at two sizes to show that memory stays flat in the file size (streamed).

Usage::

    python3 benchmarks/bench_score_clasi.py            # 100,000 and 1,000,000 forms
    python3 benchmarks/bench_score_clasi.py --sizes 200000
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from cletrial.instruments.clasi import CLASI_REGIONS, FORM_ITEM_CHOICES, REGION_ITEM_CHOICES


def random_form(rng: random.Random) -> dict[str, object]:
    regions = {}
    for region in rng.sample(CLASI_REGIONS, rng.randint(1, 6)):
        items = {k: rng.choice(v) for k, v in REGION_ITEM_CHOICES.items()}
        if region == "scalp":
            items.pop("scarring")
        regions[region] = items
    form: dict[str, object] = {"regions": regions}
    for key, choices in FORM_ITEM_CHOICES.items():
        form[key] = rng.choice(choices)
    form["dyspigmentation_persistent"] = rng.random() < 0.3
    return form


def write_forms(path: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    encode = msgspec.json.encode
    pool = [encode(random_form(rng)) for _ in range(min(n, 50_000))]
    with path.open("wb") as handle:
        for i in range(n):
            handle.write(pool[i % len(pool)] + b"\n")


def run(path: Path, n: int) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "cletrial.cli", "score", "clasi", str(path), "--json"]
    start = time.perf_counter()
    with Path(os.devnull).open("wb") as devnull:
        proc = subprocess.Popen(cmd, stdout=devnull)
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"scoring failed with status {status}")
    return n / elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"forms-{n}.jsonl"
            write_forms(path, n)
            rate, peak_mib = run(path, n)
            size_mib = path.stat().st_size / 2**20
            print(
                f"clasi score: {n:>9,} forms ({size_mib:,.0f} MiB): "
                f"{rate:>10,.0f} forms/s, peak RSS {peak_mib:,.1f} MiB"
            )


if __name__ == "__main__":
    main()
