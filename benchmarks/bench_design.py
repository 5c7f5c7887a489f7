"""Benchmark: group-sequential boundaries (Lan-DeMets efficacy, non-binding futility) for 2 to
20 looks, and sample sizes by the exact Fisher search, on one core.

Prints milliseconds per call (median of ``--repeat`` runs).

Usage::

    python3 benchmarks/bench_design.py --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from cletrial.design.boundaries import compute_boundaries
from cletrial.design.sample_size import n_two_proportions


def _ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for k in (2, 3, 5, 10, 20):
        looks = [(i + 1) / k for i in range(k)]
        plain = _ms(lambda looks=looks: compute_boundaries(looks, 0.025, "obf"), args.repeat)
        both = _ms(lambda looks=looks: compute_boundaries(looks, 0.025, "obf", futility="obf",
                                                          beta=0.1), args.repeat)  # fmt: skip
        print(f"boundaries K={k:>2}: efficacy only {plain:8.1f} ms, with futility {both:8.1f} ms")
    for p_c, p_t in ((0.1, 0.733), (0.2, 0.4), (0.3, 0.4)):
        size = n_two_proportions(p_c, p_t, method="exact")
        ms = _ms(lambda p_c=p_c, p_t=p_t: n_two_proportions(p_c, p_t, method="exact"), 1)
        print(f"exact Fisher size p0={p_c} p1={p_t}: n/arm {size.n_control:>4} in {ms:8.1f} ms")


if __name__ == "__main__":
    main()
