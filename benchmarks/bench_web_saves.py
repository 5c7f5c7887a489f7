"""Visit saves through HTTP at 50 concurrent clients: latency (p50/p95/p99) and saves per second.

A real uvicorn server (one worker, as ``cletrial serve`` runs it) is started in a subprocess on a
free 127.0.0.1 port; 50 asyncio clients each log in, screen their own patient, then save visits
(``POST /api/patients/{id}/visits`` with a full CLASI form, a SLEDAI-2K form and two lab values,
each graded by CTCAE and audited) as fast as the server answers. Targets on the 2-core machine:
p95 <= 50 ms and >= 300 saves/s on SQLite, with no errors.

Usage::

    python3 benchmarks/bench_web_saves.py                      # SQLite, 50 clients, 20 s
    python3 benchmarks/bench_web_saves.py --postgres           # also PostgreSQL (tests/pg_server.py)
    python3 benchmarks/bench_web_saves.py --clients 50 --seconds 30
"""

# ruff: noqa: E501
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "benchmark password"

SERVER = """
import sys, uvicorn
from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.web import WebSettings, create_app
url, port = sys.argv[1], int(sys.argv[2])
engine = create_engine_for(url)
upgrade(engine)
with UnitOfWork(engine, user="bench") as uow:
    study = uow.studies.create(code="BENCH", title="benchmark", protocol_id="lenalidomide-cle-2012",
                               protocol_version="1.0.0")
    site = uow.sites.create(study_id=study.id, code="A", name="Site A")
    uow.users.create(username="bench", password=PASSWORD_VALUE, role="coordinator", site_ids=[site.id])
print(site.id, flush=True)
app = create_app(WebSettings(database_url=url), engine=engine)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""

CLASI = {
    "regions": {"arms": {"erythema": 2, "scale": 1}, "nose": {"erythema": 1, "dyspigmentation": 1},
                "v_neck": {"erythema": 1}, "back_buttocks": {"scarring": 1}},
    "nonscarring_alopecia": 1,
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _client(base: str, site_id: int, number: int, stop_at: float,
                  latencies: list[float], errors: list[str]) -> None:  # fmt: skip
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        login = await http.post("/api/auth/login", json={"username": "bench", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        patient = await http.post("/api/patients", headers=headers, json={
            "site_id": site_id, "study_code": f"B-{number:03d}", "screening_date": "2020-01-01",
            "screening": {"screening_date": "2020-01-01"}})  # fmt: skip
        patient_id = patient.json()["id"]
        day = dt.date(2020, 1, 6)
        kind = "baseline"
        while time.perf_counter() < stop_at:
            body = {"visit_date": day.isoformat(), "kind": kind, "clasi": CLASI,
                    "sledai": {"rash": True, "arthritis": True},
                    "labs": [{"test": "neutrophils", "value": 2.1, "unit": "10^9/L"},
                             {"test": "platelets", "value": 180, "unit": "10^9/L"}]}  # fmt: skip
            start = time.perf_counter()
            response = await http.post(f"/api/patients/{patient_id}/visits", json=body,
                                       headers=headers)  # fmt: skip
            elapsed = time.perf_counter() - start
            if response.status_code != 201:
                errors.append(f"{response.status_code} {response.text[:200]}")
            else:
                latencies.append(elapsed)
            day += dt.timedelta(days=1)
            kind = "scheduled"


async def _run(
    base: str, site_id: int, clients: int, seconds: float
) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    warmup = time.perf_counter() + 2 + clients * 0.15  # logins (argon2) happen first
    stop_at = warmup + seconds
    tasks = [_client(base, site_id, i, stop_at, latencies, errors) for i in range(clients)]
    runner = asyncio.gather(*tasks)
    await asyncio.sleep(max(0.0, warmup - time.perf_counter()))
    measured_from = len(latencies)
    begin = time.perf_counter()
    await runner
    elapsed = time.perf_counter() - begin
    return latencies[measured_from:], errors, elapsed


def bench(url: str, label: str, clients: int, seconds: float) -> dict[str, float]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port)],
                              stdout=subprocess.PIPE, env=env, text=True)  # fmt: skip
    try:
        assert server.stdout is not None
        site_id = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        latencies, errors, elapsed = asyncio.run(_run(base, site_id, clients, seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies.sort()

    def q(p: float) -> float:
        return (
            1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))]
            if latencies
            else float("nan")
        )

    result = {"saves": len(latencies), "saves_per_s": len(latencies) / elapsed, "p50_ms": q(0.50),
              "p95_ms": q(0.95), "p99_ms": q(0.99), "errors": len(errors),
              "mean_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan")}  # fmt: skip
    print(f"{label}: {clients} clients, {result['saves']} visit saves in {elapsed:.1f} s: "
          f"{result['saves_per_s']:.0f} saves/s, p50 {result['p50_ms']:.1f} ms, "
          f"p95 {result['p95_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
          f"errors {result['errors']}")  # fmt: skip
    if errors:
        print("  first error:", errors[0])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{tmp}/bench.sqlite", "SQLite", args.clients, args.seconds)
    if args.postgres:
        sys.path.insert(0, str(ROOT / "tests"))
        from pg_server import PostgresServer

        with PostgresServer.start() as pg:
            bench(pg.create_database("bench"), "PostgreSQL", args.clients, args.seconds)


if __name__ == "__main__":
    main()
