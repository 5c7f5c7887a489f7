"""Benchmark: the whole submission package of a stored study, end to end, as ``cletrial
submission`` makes it.

Target (issue 13): the package for an imported 10,000-patient synthetic study in <= 30 s and
<= 2 GiB. Steps, each timed (wall-clock and CPU; the machine is shared) with the peak resident
set size of this process after it:

1. a synthetic demo study of ``--patients`` patients is stored in a SQLite file by a child process
   (not timed; about 20 ms a patient), unless ``--database`` names an existing one;
2. :func:`~cletrial.store.submission_source.load_study_source` reads it;
3. :func:`~cletrial.standards.submission.build_submission` builds SDTM, QS, RS and ADaM, checks
   every dataset once and runs the conformance rules;
4. with ``--odm``, :func:`~cletrial.store.odm.render_odm` renders the ODM 1.3.2 export of the
   database (read in step 2's unit of work; ``cletrial submission --odm`` adds it as
   ``odm/study.xml``);
5. :func:`~cletrial.standards.submission.write_submission` writes XPT, Dataset-JSON and
   Define-XML for SDTM and ADaM, the ODM file, the report and the manifest.

Usage::

    python3 benchmarks/bench_submission.py                    # 200 patients
    python3 benchmarks/bench_submission.py --patients 10000   # the target (building: minutes)
    python3 benchmarks/bench_submission.py --patients 10000 --database sqlite:////tmp/d10k.sqlite
    python3 benchmarks/bench_submission.py --database sqlite:////tmp/d10k.sqlite --keep  # again
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cletrial.standards.package import PackageFile
from cletrial.standards.submission import build_submission, write_submission
from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.store.odm import render_odm
from cletrial.store.submission_source import load_study_source
from cletrial.web.demo import build_demo_study


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(label: str, step: Callable[[], Any]) -> tuple[Any, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<22} {wall:7.2f} s wall  {cpu:7.2f} s CPU  peak RSS {_rss_mib():7.0f} MiB")
    return result, wall


def _store(url: str, patients: int) -> None:
    engine = create_engine_for(url)
    upgrade(engine)
    build_demo_study(engine, patients=patients)
    engine.dispose()


def _database(url: str | None, patients: int, folder: Path) -> str:
    """The database to read: ``url`` if given (stored first when its SQLite file is missing),
    else a new one in ``folder``. Storing runs in a child process, so that this process's peak
    RSS is the package's alone."""
    if url is None:
        url = f"sqlite:///{folder / 'study.sqlite'}"
    elif not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists():
        return url
    t = time.perf_counter()
    child = multiprocessing.get_context("spawn").Process(target=_store, args=(url, patients))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"storing the study failed (exit status {child.exitcode})")
    print(f"stored a {patients}-patient synthetic study in {time.perf_counter() - t:.0f} s "
          "(not timed, another process)")  # fmt: skip
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=200, help="patients to store (200)")
    parser.add_argument("--database", help="database URL to read; a missing SQLite file is stored "
                        "first (keep it to measure again without storing)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the package directory")
    parser.add_argument("--odm", action="store_true", help="add the ODM export, as "
                        "`cletrial submission --odm` does")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = _database(args.database, args.patients, folder)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        engine = create_engine_for(url)
        with UnitOfWork(engine, read_only=True) as uow:
            code = uow.studies.list()[0].code
            source, load_s = _timed("load_study_source", lambda: load_study_source(uow, code))
            extra, odm_s = [], 0.0
            if args.odm:
                odm, odm_s = _timed("render_odm", lambda: render_odm(uow.connection, code))
                extra = [PackageFile("odm/study.xml", lambda p: p.write_text(odm, "utf-8"))]
        engine.dispose()
        sub, build_s = _timed("build_submission", lambda: build_submission(source))
        out = folder / "package"
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        manifest, write_s = _timed("write_submission",
                                   lambda: write_submission(sub, out, created=created,
                                                            extra=extra))  # fmt: skip
        rows = sum(f["rows"] or 0 for f in manifest["files"] if f["path"].endswith(".xpt"))
        size = sum(f["bytes"] for f in manifest["files"])
        total = load_s + odm_s + build_s + write_s
        print(
            f"package: {len(source.subjects)} subjects, {len(sub.datasets) + len(sub.adam)} "
            f"datasets, {rows:,} rows, {len(manifest['files'])} files, {size / 2**20:.1f} MiB"
        )
        print(
            f"whole package {total:.1f} s, peak RSS {_rss_mib():.0f} MiB "
            "(target for 10,000 patients: <= 30 s, <= 2048 MiB)"
        )
        if args.keep:
            kept = Path(tempfile.mkdtemp(prefix="cletrial-package-"))
            out.rename(kept / "package")
            print(f"kept {kept / 'package'}")


if __name__ == "__main__":
    main()
