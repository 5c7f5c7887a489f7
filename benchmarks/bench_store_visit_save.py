"""Benchmark: save a visit with a scored CLASI form (visit, CLASI and audit rows, one transaction).

Each save is one :class:`cletrial.store.UnitOfWork`: the visit and its CLASI form (validated and
scored with ``compute_clasi``) are inserted, the two audit rows appended to the hash chain, and
the transaction committed durably (SQLite WAL with ``synchronous=FULL``; PostgreSQL with
``synchronous_commit=on`` and ``fsync=on``, its defaults). Writers are separate processes, each
with its own engine and patient. Prints saves per second and p50/p95 latency per engine and
number of writers.

Usage::

    python3 benchmarks/bench_store_visit_save.py                      # both engines, 1 and 16
    python3 benchmarks/bench_store_visit_save.py --engine sqlite --writers 1 --seconds 10
    python3 benchmarks/bench_store_visit_save.py --engine postgresql --writers 16 --repeat 5

PostgreSQL runs on a throw-away server started with ``tests/pg_server.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from pathlib import Path

from _disk import fsync_latency  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from cletrial.instruments.complete_forms import fill_absent_clasi_items  # noqa: E402
from cletrial.store import UnitOfWork, create_engine_for, upgrade, verify_audit_chain  # noqa: E402
from pg_server import PostgresServer  # noqa: E402

#: A complete form (the store refuses blanks): the items below, every other one 0.
FORM = fill_absent_clasi_items({
    "regions": {"scalp": {"erythema": 2, "scale": 1}, "nose": {"erythema": 1, "scarring": 1},
                "arms": {"erythema": 3, "scale": 1, "dyspigmentation": 1}},
    "recent_hair_loss": 1,
})  # fmt: skip
START = dt.date(2000, 1, 1)


def _setup(url: str, writers: int) -> list[int]:
    engine = create_engine_for(url)
    with UnitOfWork(engine, user="bench") as uow:
        study = uow.studies.by_code("BENCH") or uow.studies.create(
            code="BENCH", title="Benchmark", protocol_id="lenalidomide-cle-2012",
            protocol_version="1")  # fmt: skip
        site = uow.sites.by_code(study.id, "S") or uow.sites.create(
            study_id=study.id, code="S", name="Site")  # fmt: skip
        first = len(uow.patients.list(study_id=study.id))
        ids = [
            uow.patients.create(
                study_id=study.id, site_id=site.id, study_code=f"B{first + i:05d}"
            ).id
            for i in range(writers)
        ]
    engine.dispose()
    return ids


def _writer(url: str, patient_id: int, seconds: float, barrier: Barrier, out: Connection) -> None:
    engine = create_engine_for(url)
    with UnitOfWork(engine, user="bench") as uow:  # warm up: connect, compile
        uow.visits.create(patient_id=patient_id, visit_date=START, clasi=FORM)
    latencies = []
    barrier.wait()
    deadline = time.perf_counter() + seconds
    day = 1
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        with UnitOfWork(engine, user="bench") as uow:
            uow.visits.create(patient_id=patient_id, visit_date=START + dt.timedelta(days=day),
                              clasi=FORM)  # fmt: skip
        latencies.append(time.perf_counter() - began)
        day += 1
    out.send((latencies, time.perf_counter()))
    engine.dispose()


def run(url: str, writers: int, seconds: float) -> tuple[float, float, float, int]:
    """Return (saves/s, p50 ms, p95 ms, saves) for ``writers`` processes saving for ``seconds``."""
    patients = _setup(url, writers)
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(writers + 1)
    pipes = [ctx.Pipe(duplex=False) for _ in range(writers)]
    procs = [ctx.Process(target=_writer, args=(url, pid, seconds, barrier, send))
             for pid, (_recv, send) in zip(patients, pipes, strict=True)]  # fmt: skip
    for p in procs:
        p.start()
    barrier.wait()
    began = time.perf_counter()
    results = [recv.recv() for recv, _send in pipes]
    for p in procs:
        p.join()
    elapsed = max(end for _lat, end in results) - began
    latencies = sorted(x for lat, _end in results for x in lat)
    total = len(latencies)
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[min(total - 1, int(0.95 * total))] * 1000
    return total / elapsed, p50, p95, total


def _check(url: str) -> str:
    engine = create_engine_for(url)
    with engine.connect() as conn:
        result = verify_audit_chain(conn)
    engine.dispose()
    return "audit chain verifies" if result.ok else result.summary()


def main() -> int:
    """Run the benchmark and print one line per engine and writer count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--writers", default="1,16", help="comma-separated writer counts")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each run")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per engine and writer count (and their median)"
    )
    args = parser.parse_args()
    counts = [int(x) for x in args.writers.split(",")]
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    print(f"visit save (CLASI scored, visit + audit rows, one durable transaction), "
          f"{args.seconds:g} s per run, {mp.cpu_count()} CPUs")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="cletrial-bench-") as tmp:
        probe = fsync_latency(Path(tmp))
    print(f"disk: 8 kB write + fsync p50 {probe:.2f} ms (at most {1000 / probe:.0f} durable "
          "commits/s for one writer)")  # fmt: skip
    for name in engines:
        with tempfile.TemporaryDirectory(prefix="cletrial-bench-") as tmp:
            server = PostgresServer.start() if name == "postgresql" else None
            try:
                url = (server.create_database("bench") if server
                       else f"sqlite:///{Path(tmp) / 'bench.sqlite'}")  # fmt: skip
                engine = create_engine_for(url)
                upgrade(engine)
                engine.dispose()
                for writers in counts:
                    rates = []
                    for _ in range(args.repeat):
                        rate, p50, p95, total = run(url, writers, args.seconds)
                        rates.append(rate)
                        print(
                            f"{name:10s} writers={writers:2d}  {rate:7.0f} saves/s  "
                            f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  ({total} saves)",
                            flush=True,
                        )
                    if args.repeat > 1:
                        print(f"{name:10s} writers={writers:2d}  median of {args.repeat} runs "
                              f"{statistics.median(rates):7.0f} saves/s (min {min(rates):.0f}, "
                              f"max {max(rates):.0f})", flush=True)  # fmt: skip
                print(f"{name:10s} {_check(url)}")
            finally:
                if server is not None:
                    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
