"""Write a 10,000-subject-sized dataset (500,000 rows x 20 variables) to SAS transport v5,
Dataset-JSON 1.1 and Define-XML 2.1; print seconds per format and peak RSS.

    PYTHONPATH=src python3 benchmarks/bench_standards_files.py [--rows 500000]

Issue 13 target for the whole submission package: <= 30 s and <= 2 GiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cletrial.standards.dataset_json import write_dataset_json
from cletrial.standards.define_xml import DefineStudy, write_define_xml
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
from cletrial.standards.xpt import write_xpt

WHEN = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)


def _dataset(rows: int) -> Dataset:
    rng = np.random.default_rng(13)
    subjects = 10_000
    subject = rng.integers(1, subjects + 1, rows)
    start = dt.date(2024, 1, 1)
    days = rng.integers(0, 700, rows)
    dates = [start + dt.timedelta(days=int(d)) for d in days]
    text = {f"C{i}": Variable(f"C{i}", f"Text {i}", "text", length=20) for i in range(1, 9)}
    frame: dict[str, object] = {
        "STUDYID": ["CLE-LEN-01"] * rows,
        "USUBJID": [f"CLE-LEN-01-{s:05d}" for s in subject],
        "PARAMCD": rng.choice(["CLASIA", "CLASID", "SLEDAI", "PGA"], rows).tolist(),
    }
    for name in text:
        frame[name] = rng.choice(["alpha", "beta", "gamma", "delta épsilon"], rows).tolist()
    for i in range(1, 4):
        frame[f"N{i}"] = rng.normal(10, 3, rows).round(3)
    frame["AVISITN"] = rng.integers(0, 20, rows).astype(float)
    frame["ASEQ"] = np.arange(1, rows + 1, dtype=float)
    frame["ADT"] = dates
    frame["TRTSDT"] = [start] * rows
    frame["ADTC"] = [d.isoformat() for d in dates]
    frame["DTC2"] = [d.isoformat()[:7] for d in dates]
    variables = (
        Variable("STUDYID", "Study Identifier", "text"),
        Variable("USUBJID", "Unique Subject Identifier", "text", length=20),
        Variable("PARAMCD", "Parameter Code", "text", length=8),
        *text.values(),
        *(Variable(f"N{i}", f"Number {i}", "float") for i in range(1, 4)),
        Variable("AVISITN", "Analysis Visit (N)", "integer"),
        Variable("ASEQ", "Analysis Sequence Number", "integer"),
        Variable("ADT", "Analysis Date", "sas_date", origin="Derived", derivation="From ADTC."),
        Variable("TRTSDT", "Date of First Exposure to Treatment", "sas_date"),
        Variable("ADTC", "Analysis Date (ISO)", "iso8601"),
        Variable("DTC2", "Partial Date", "iso8601"),
    )
    spec = DatasetSpec(
        "ADRS",
        "Response Analysis Dataset",
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per analysis visit",
        ("STUDYID", "USUBJID", "PARAMCD", "ASEQ"),
        variables,
        "ADaMIG 1.3",
    )
    return Dataset(spec, pd.DataFrame(frame))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    rows = parser.parse_args().rows
    started = time.perf_counter()
    dataset = _dataset(rows)
    print(
        f"build {rows:,} rows x {len(dataset.frame.columns)} variables: "
        f"{time.perf_counter() - started:.1f} s"
    )
    folder = Path(tempfile.mkdtemp())
    study = DefineStudy("ST.BENCH", "BENCH", "Benchmark", "BENCH protocol")
    steps = {
        "check": lambda: dataset.check(),
        "xpt": lambda: write_xpt(dataset, folder / "adrs.xpt"),
        "dataset-json": lambda: write_dataset_json(
            dataset, folder / "adrs.json", study_oid=study.oid,
            metadata_version_oid=f"MDV.{study.oid}", created=WHEN),
        "define-xml": lambda: write_define_xml([dataset], folder / "define.xml", study,
                                               created=WHEN),
    }  # fmt: skip
    total = 0.0
    for name, step in steps.items():
        began = time.perf_counter()
        step()
        seconds = time.perf_counter() - began
        total += seconds
        print(f"{name:>13}: {seconds:6.1f} s")
    print(f"{'all writers':>13}: {total:6.1f} s (each writer checks the dataset itself)")
    for path in sorted(folder.iterdir()):
        print(f"{path.name:>13}: {path.stat().st_size / 2**20:7.1f} MiB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
