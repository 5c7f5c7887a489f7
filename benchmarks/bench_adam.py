"""Benchmark: build ADSL, ADRS, ADTTE, ADAE and ADLB for synthetic patients (default 10,000).

Histories come from the protocol-engine generator (its time is printed, not measured); DM is
built by hand and the SDTM source is the provisional :func:`sequence_lookup`. Prints the build
time (wall and CPU), rows per dataset and the process's peak RSS.

Usage::

    python3 benchmarks/bench_adam.py --patients 10000
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

from cletrial.standards.adam import build_adam, sequence_lookup
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
from cletrial.synthetic import generate_cohort

_DM = ("STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "ARM", "ACTARM")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    args = parser.parse_args()
    start = time.perf_counter()
    hs = {f"CLE-H01-{h['patient_id']}": h for h in generate_cohort(args.patients, seed=2012)}
    print(f"generated {len(hs)} histories in {time.perf_counter() - start:.1f} s")
    rows = [{"STUDYID": "CLE", "USUBJID": u, "SUBJID": u[8:], "SITEID": "H01", "AGE": 40.0,
             "AGEU": "YEARS", "SEX": "F", "ARM": "Lenalidomide", "ACTARM": "Lenalidomide"}
            for u in hs]  # fmt: skip
    spec = DatasetSpec("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
                       ("STUDYID", "USUBJID"),
                       tuple(Variable(n, n, "integer" if n == "AGE" else "text") for n in _DM),
                       "SDTMIG 3.4")  # fmt: skip
    dm = Dataset(spec, pd.DataFrame(rows, columns=list(_DM)))
    look = sequence_lookup(hs)
    wall, cpu = time.perf_counter(), time.process_time()
    out = build_adam(dm, hs, look)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"build_adam: {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(", ".join(f"{k} {len(v.frame)} rows" for k, v in out.items()))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
