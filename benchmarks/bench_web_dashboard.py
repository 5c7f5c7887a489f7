"""The study dashboard: time to render ``GET /`` for studies of 15 to a few hundred patients.

Each patient's line (status, latest CLASI-A, best response, the protocol's recommendation for
today) is cached by the application and recomputed only for patients whose records changed
(``cletrial.web.summaries``). Printed: a load with an empty cache (every line computed, as
before the cache), a repeated load (every line cached), and a load after one visit save (one line
recomputed); medians of ``--repeat`` loads.

Usage::

    python3 benchmarks/bench_web_dashboard.py                  # 15 and 150 patients
    python3 benchmarks/bench_web_dashboard.py --patients 15,300 --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from typing import Any

from fastapi.testclient import TestClient

from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.web import WebSettings, create_app
from cletrial.web.demo import build_demo_study
from cletrial.web.summaries import SummaryCache


def _login(client: TestClient, username: str, password: str) -> dict[str, str]:
    body = {"username": username, "password": password}
    return {"Authorization": f"Bearer {client.post('/api/auth/login', json=body).json()['token']}"}


def _timed(client: TestClient, headers: dict[str, str]) -> float:
    began = time.perf_counter()
    response = client.get("/", headers=headers)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, response.status_code
    return 1000 * elapsed


def _save_one_visit(client: TestClient, engine: Any, headers: dict[str, str]) -> Any:
    """Record a visit the day after the last one of the first patient still in the study (a
    patient who ended the study takes no more visits)."""
    with UnitOfWork(engine, read_only=True) as uow:
        patients = uow.patients.list()
        lasts = {p.id: max(v.visit_date for v in uow.visits.for_patient(p.id)) for p in patients}
    for patient_id, last in lasts.items():
        day = (last + dt.timedelta(days=1)).isoformat()
        saved = client.post(f"/api/patients/{patient_id}/visits", headers=headers,
                            json={"visit_date": day})  # fmt: skip
        if saved.status_code != 422:
            return saved
    raise SystemExit("no patient of the demo study takes another visit")


def run(patients: int, repeat: int) -> None:
    """Print dashboard load times (ms) for a demo study of ``patients`` patients."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/dash.sqlite"
        engine = create_engine_for(url)
        upgrade(engine)
        passwords = {u: p for u, p, _ in build_demo_study(engine, patients=patients)}
        app = create_app(WebSettings(database_url=url, synthetic_data=True), engine=engine)
        with TestClient(app) as client:
            headers = {u: _login(client, u, passwords[u]) for u in ("monitor", "investigator")}
            _timed(client, headers["monitor"])  # first request: protocol, templates

            def uncached() -> float:
                app.state.summaries = SummaryCache()  # as before the cache: every line computed
                return _timed(client, headers["monitor"])

            cold = statistics.median(uncached() for _ in range(repeat))
            _timed(client, headers["monitor"])
            warm = statistics.median(_timed(client, headers["monitor"]) for _ in range(repeat))
            saved = _save_one_visit(client, engine, headers["investigator"])
            assert saved.status_code == 201, saved.text
            one_changed = _timed(client, headers["monitor"])
        engine.dispose()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{patients} patients: every line computed {cold:.0f} ms, all cached {warm:.0f} ms, "
          f"after one visit save {one_changed:.0f} ms (one line computed); "
          f"load average {load}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", default="15,150", help="comma-separated study sizes")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for size in (int(x) for x in args.patients.split(",")):
        run(size, args.repeat)


if __name__ == "__main__":
    main()
