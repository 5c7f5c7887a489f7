"""Benchmark: derive every endpoint of 100,000 synthetic patients (~2.5 million visits).

Target (issue 5): <= 2 s and <= 2 GiB peak memory on the project machine (2 cores), with the
speed ratio against the straightforward per-patient reference implementation.

The cohort is built directly in columnar form by the fast vectorised generator
(:func:`cletrial.synthetic.fast.generate_visit_table`: about 25 visits a patient, every 2 weeks;
not by the protocol engine, which would take minutes at this size); its generation time is
printed but is not part of the measured derivation. Then:

1. the vectorised derivation (:func:`cletrial.endpoints.derive_endpoints`: one row per patient
   with every endpoint, plus the relapse records) is timed, best of ``--repeat`` runs after one
   warm-up run;
   (wall-clock and CPU time are both printed: the machine is shared, and the wall-clock time
   grows when other processes compete for its two cores);
2. its peak memory is measured with tracemalloc (memory allocated during the derivation, on top
   of the input table) and the process's peak resident set size is printed too;
3. the per-patient reference (:func:`cletrial.endpoints.compute_patient_endpoints`) is timed on
   ``--reference-patients`` patients (all by default) and, when that is a subset, extrapolated
   linearly to the whole cohort; the ratio is reference time / vectorised time;
4. both implementations are compared on every derived value of the first ``--check-patients``
   patients;
5. the ADaM-shaped tables (ADSL, ADRS, ADTTE, ADAE) are timed for information.

Usage::

    python3 benchmarks/bench_derive.py
    python3 benchmarks/bench_derive.py --patients 20000 --reference-patients 5000
"""

from __future__ import annotations

import argparse
import math
import resource
import time
import tracemalloc
from itertools import islice
from typing import Any

from cletrial.endpoints import (
    Endpoints,
    VisitTable,
    compute_patient_endpoints,
    derive_adae,
    derive_adrs,
    derive_adsl,
    derive_adtte,
    derive_endpoints,
    iter_courses,
    subject_columns,
)
from cletrial.synthetic.fast import generate_visit_table


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reference-patients", type=int, default=None)
    parser.add_argument("--check-patients", type=int, default=5_000)
    return parser.parse_args()


def _cohort(args: argparse.Namespace) -> VisitTable:
    start = time.perf_counter()
    table = generate_visit_table(args.patients, seed=args.seed)
    generated = time.perf_counter() - start
    size = sum(
        getattr(table, t).memory_usage(deep=True).sum()
        for t in ("patients", "visits", "doses", "labs", "aes", "events")
    )
    print(
        f"cohort: {args.patients:,} patients, {len(table.visits):,} visits, "
        f"{len(table.doses):,} dose records (fast vectorised generator, seed {args.seed}: "
        f"{generated:.2f} s, {size / 2**20:.0f} MiB in memory)"
    )
    return table


def _vectorised(table: VisitTable, repeat: int) -> tuple[Endpoints, float, int]:
    endpoints = derive_endpoints(table)  # warm-up
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        endpoints = derive_endpoints(table)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    tracemalloc.start()
    derive_endpoints(table)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(
        f"vectorised derive_endpoints: {min(times):.3f} s (best of {repeat}: "
        + ", ".join(f"{t:.3f}" for t in times)
        + f"; CPU {min(cpu):.3f} s); {len(endpoints.subjects.columns)} columns, "
        f"{len(endpoints.relapses):,} relapse records"
    )
    print(
        f"peak memory of the derivation (tracemalloc): {peak / 2**20:.0f} MiB; "
        f"process peak RSS so far: {rss:.2f} GiB"
    )
    return endpoints, min(times), peak


def _reference(
    args: argparse.Namespace, table: VisitTable, endpoints: Endpoints, fast: float
) -> None:
    k = args.reference_patients or args.patients
    start = time.perf_counter()
    courses = list(islice(iter_courses(table), k))
    converted = time.perf_counter() - start
    start = time.perf_counter()
    reference = [compute_patient_endpoints(c) for c in courses]
    whole = (time.perf_counter() - start) * args.patients / k
    label = "" if k == args.patients else f" (measured on {k:,}, extrapolated)"
    print(
        f"per-patient reference: {whole:.1f} s for {args.patients:,} patients{label}; "
        f"table -> courses conversion {converted:.1f} s not included"
    )
    print(f"speed ratio (reference / vectorised): {whole / fast:.0f}x")
    check = min(args.check_patients, k)
    names = list(subject_columns())
    bad = sum(
        not _same(r.subject[c], row[c])
        for r, row in zip(reference[:check], endpoints.records()[:check], strict=True)
        for c in names
    )
    verdict = "all values agree" if bad == 0 else f"{bad} DIFFERENCES"
    print(f"cross-check on {check:,} patients x {len(names)} columns: {verdict}")


def main() -> None:
    args = _arguments()
    table = _cohort(args)
    endpoints, fast, peak = _vectorised(table, args.repeat)
    _reference(args, table, endpoints, fast)
    start = time.perf_counter()
    sizes = [
        len(derive_adsl(endpoints, table)),
        len(derive_adrs(endpoints, table)),
        len(derive_adtte(endpoints, table)),
        len(derive_adae(table)),
    ]
    print(
        f"ADaM tables (ADSL {sizes[0]:,}, ADRS {sizes[1]:,}, ADTTE {sizes[2]:,}, ADAE "
        f"{sizes[3]:,} rows): {time.perf_counter() - start:.2f} s (not part of the target)"
    )
    verdict = "met" if fast <= 2.0 and peak <= 2 * 2**30 else "NOT met"
    print(f"target <= 2 s and <= 2 GiB: {verdict}")


if __name__ == "__main__":
    main()
