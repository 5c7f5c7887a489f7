"""Benchmark: ODM 1.3.2 export, schema validation and import of a large synthetic study.

The study is the SYNTHETIC demo study (:func:`cletrial.web.demo.build_demo_study`) with
``--patients`` patients in a SQLite file; its build time is printed but not measured. Then:

1. export (:func:`cletrial.store.odm.export_odm_file`), timed;
2. validation against the ODM 1.3.2 XSD (:func:`cletrial.store.odm.validate_odm`), timed;
3. import into an empty database (:func:`cletrial.store.odm.import_odm_file`: validation,
   parsing and the one unit of work), timed;
4. export of the imported database, timed, and compared byte for byte with the first.

Wall-clock and CPU time are both printed (the machine is shared).

Usage::

    python3 benchmarks/bench_odm.py
    python3 benchmarks/bench_odm.py --patients 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cletrial.store import create_engine_for, upgrade
from cletrial.store.odm import export_odm_file, import_odm_file, validate_odm
from cletrial.web.demo import build_demo_study


def _timed(label: str, function: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<28} {wall:8.2f} s wall {cpu:8.2f} s CPU")
    return result


def main() -> None:
    """Build the study, then time export, validation, import and the second export."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_odm_"))
    source = create_engine_for(f"sqlite:///{folder / 'source.sqlite'}")
    target = create_engine_for(f"sqlite:///{folder / 'target.sqlite'}")
    upgrade(source)
    upgrade(target)
    _timed(
        f"build ({args.patients} patients)",
        lambda: build_demo_study(source, today=dt.date(2026, 12, 1), patients=args.patients),
    )
    first, second = folder / "one.xml", folder / "two.xml"
    _timed("export", lambda: export_odm_file(source, first))
    text = first.read_text(encoding="utf-8")
    print(
        f"file: {len(text.encode()) / 1e6:.1f} MB, {text.count('<SubjectData ')} subjects, "
        f"{text.count('<ItemGroupData ')} item groups, {text.count('<ItemData ')} items, "
        f"{text.count('<AuditRecord ')} audit records"
    )
    _timed("validate (XSD)", lambda: validate_odm(first))
    created = _timed(
        "import (validate + write)", lambda: import_odm_file(target, first, user="bench")
    )
    print(f"records created: {created}")
    _timed("export of the imported", lambda: export_odm_file(target, second))
    print(f"byte-identical: {second.read_text(encoding='utf-8') == text}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
