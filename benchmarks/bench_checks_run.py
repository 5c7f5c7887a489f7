"""Benchmark: ``cletrial checks run`` over an imported synthetic study.

Builds a synthetic study of ``--patients`` patients (the demo generator, through the store as a
site would enter it), exports it in the import format and imports it into a fresh database
(``cletrial import``, one atomic unit of work), then runs every edit check of the protocol over
every patient, twice: the first run raises the queries, the second finds them raised. Printed:
form checks (check x record evaluations) per second of checking alone and including the reads
from the database, both on one core, and the queries raised.

The monitor's dashboard target (1,000 open queries listed in <= 100 ms) is measured by
``benchmarks/bench_query_listing.py``.

Usage::

    python3 benchmarks/bench_checks_run.py                   # 10,000 patients (slow to build)
    python3 benchmarks/bench_checks_run.py --patients 1000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.store.edit_check_runner import run_edit_checks
from cletrial.store.import_export import export_to, import_path
from cletrial.web.demo import build_demo_study


def _build(directory: Path, patients: int) -> tuple[Path, float, float]:
    """The imported study's database, and the seconds spent building and importing it."""
    began = time.perf_counter()
    source = create_engine_for(f"sqlite:///{directory}/built.sqlite")
    upgrade(source)
    build_demo_study(source, patients=patients)
    export = directory / "study.json"
    export_to(source, export, fmt="json")
    source.dispose()
    built = time.perf_counter() - began
    began = time.perf_counter()
    target_path = directory / "imported.sqlite"
    target = create_engine_for(f"sqlite:///{target_path}")
    upgrade(target)
    import_path(target, export, user="data.manager")
    target.dispose()
    return target_path, built, time.perf_counter() - began


def _perturb(engine: object, every: int = 20) -> int:
    """Give one patient in ``every`` an unusual platelet count (x4, confirmed), as a site might
    mistype it, so that the checks have findings; return how many were changed."""
    changed = 0
    with UnitOfWork(engine, user="site.coordinator", reason="benchmark: mistyped") as uow:  # type: ignore[arg-type]
        for patient in uow.patients.list()[::every]:
            labs = [lab for lab in uow.labs.for_patient(patient.id) if lab.test == "platelets"]
            if labs:
                lab = labs[len(labs) // 2]
                uow.labs.update(lab.id, expected_version=lab.version, value=lab.value * 4,
                                value_confirmed=True)  # fmt: skip
                changed += 1
    return changed


def run(patients: int) -> None:
    """Print the speed of the edit checks over an imported study of ``patients`` patients."""
    with tempfile.TemporaryDirectory() as tmp:
        path, built, imported = _build(Path(tmp), patients)
        engine = create_engine_for(f"sqlite:///{path}")
        mistyped = _perturb(engine)
        for label in ("first run", "second run"):
            began = time.perf_counter()
            cpu = time.process_time()
            with UnitOfWork(engine, user="data.manager") as uow:
                result = run_edit_checks(uow)
            wall = time.perf_counter() - began
            cpu = time.process_time() - cpu
            checking = result.evaluations / result.check_s
            with_reads = result.evaluations / (result.check_s + result.read_s)
            print(f"{label}: {result.patients} patients, {result.forms} forms, "
                  f"{result.evaluations} form checks, {result.findings} findings, "
                  f"{result.opened} queries raised, {result.closed} closed; "
                  f"checking {checking:,.0f} form checks/s, with the database reads "
                  f"{with_reads:,.0f} form checks/s; whole run {wall:.2f} s wall, "
                  f"{cpu:.2f} s CPU (read {result.read_s:.2f} s, check {result.check_s:.2f} s, "
                  f"write {result.write_s:.2f} s)")  # fmt: skip
        engine.dispose()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"built in {built:.0f} s, imported in {imported:.0f} s; {mistyped} platelet counts "
        f"mistyped after the import; load average {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    run(parser.parse_args().patients)


if __name__ == "__main__":
    main()
