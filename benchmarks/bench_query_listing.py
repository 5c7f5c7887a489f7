"""Benchmark: the monitor's views of a study with 1,000 open queries.

Builds a synthetic demo study, raises ``--queries`` queries spread over its patients' lab
results (half answered by the site), and times, as the monitor: the dashboard (``GET /``, query
counts included), the queries page (``GET /queries``, every open query listed) and the API
listing (``GET /api/queries?status=new&status=open&status=answered&limit=5000``). Medians of
``--repeat`` requests, in milliseconds (target: <= 100 ms with 1,000 open queries).

Usage::

    python3 benchmarks/bench_query_listing.py
    python3 benchmarks/bench_query_listing.py --queries 5000 --repeat 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from fastapi.testclient import TestClient

from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.web import WebSettings, create_app
from cletrial.web.demo import build_demo_study


def _raise_queries(engine: object, count: int) -> int:
    """Raise ``count`` queries on lab values (every second one answered); return how many are
    waiting for someone (all of them)."""
    with UnitOfWork(engine, user="monitor") as uow:  # type: ignore[arg-type]
        patients = uow.patients.list()
        labs = [lab for p in patients for lab in uow.labs.for_patient(p.id)]
        for i in range(count):
            lab = labs[(i * 7919) % len(labs)]
            query = uow.queries.raise_query(
                patient_id=lab.patient_id, table_name="labs", record_id=lab.id, field="value",
                subject=f"Value {i} differs from the laboratory report?", role="monitor",
            )  # fmt: skip
            if i % 2:
                uow.queries.act(query.id, "answer", role="coordinator", expected_version=1,
                                text="checked: the report agrees")  # fmt: skip
    return count


def _median_ms(client: TestClient, path: str, headers: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append(1000 * (time.perf_counter() - began))
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
    return statistics.median(times)


def run(queries: int, patients: int, repeat: int) -> None:
    """Print the monitor's response times with ``queries`` open queries."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/queries.sqlite"
        engine = create_engine_for(url)
        upgrade(engine)
        passwords = {u: p for u, p, _ in build_demo_study(engine, patients=patients)}
        waiting = _raise_queries(engine, queries)
        app = create_app(WebSettings(database_url=url, synthetic_data=True), engine=engine)
        with TestClient(app) as client:
            body = {"username": "monitor", "password": passwords["monitor"]}
            token = client.post("/api/auth/login", json=body).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            client.get("/", headers=headers)  # warm: protocol, templates, summaries
            api = "/api/queries?status=new&status=open&status=answered&limit=5000"
            listed = len(client.get(api, headers=headers).json())
            figures = {name: _median_ms(client, path, headers, repeat)
                       for name, path in (("dashboard", "/"), ("queries page", "/queries"),
                                          ("API listing", api))}  # fmt: skip
        engine.dispose()
    shown = ", ".join(f"{name} {ms:.0f} ms" for name, ms in figures.items())
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{waiting} open queries ({listed} listed by the API) over {patients} patients: "
        f"{shown} (medians of {repeat}); load average {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--patients", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    run(args.queries, args.patients, args.repeat)


if __name__ == "__main__":
    main()
