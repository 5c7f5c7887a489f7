"""Crash campaign: SIGKILL a visit-saving writer at random moments, then check nothing was lost.

Usage::

    python3 benchmarks/crash_store.py --kills 2000 --engine sqlite
    python3 benchmarks/crash_store.py --kills 1000 --engine postgresql   # starts its own server

Prints the kills, acknowledged saves, stored visits, the time taken and any problem found
(acknowledged save missing, visit without its CLASI, audit chain or record/audit mismatch,
SQLite integrity check). Exit status 1 when a problem is found. The same harness runs 200 kills
per engine in the test suite (``tests/store/test_store_crash.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from cletrial.store import create_engine_for, upgrade  # noqa: E402
from pg_server import PostgresServer  # noqa: E402
from store.crash_harness import run_crash_campaign  # noqa: E402


def _fresh_sqlite(folder: Path) -> str:
    url = f"sqlite:///{folder / 'crash.sqlite'}"
    engine = create_engine_for(url)
    upgrade(engine)
    engine.dispose()
    return url


def main() -> int:
    """Run the campaign on the chosen engines and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=20120)
    args = parser.parse_args()
    failed = False
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    for name in engines:
        with tempfile.TemporaryDirectory(prefix="cletrial-crash-") as tmp:
            folder = Path(tmp)
            if name == "sqlite":
                report = run_crash_campaign(_fresh_sqlite(folder), folder, kills=args.kills,
                                            seed=args.seed)  # fmt: skip
            else:
                with PostgresServer.start() as server:
                    url = server.create_database("crash")
                    engine = create_engine_for(url)
                    upgrade(engine)
                    engine.dispose()
                    report = run_crash_campaign(url, folder, kills=args.kills, seed=args.seed)
        print(f"{name}: {report.kills} kills, {report.acknowledged} acknowledged saves, "
              f"{report.stored_visits} visits stored, {report.seconds:.1f} s: "
              f"{'OK' if report.ok else 'PROBLEMS'}")  # fmt: skip
        for problem in report.problems[:20]:
            print(f"  {problem}")
        failed |= not report.ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
