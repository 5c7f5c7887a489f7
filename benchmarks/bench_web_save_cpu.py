"""Server CPU per visit save, in process: the ASGI application called directly, no network.

``bench_web_saves.py`` measures the whole server under 50 HTTP clients; this benchmark takes the
network, uvicorn and the clients away so that the application's own CPU per save can be
measured quickly and without the noise of a shared machine: the FastAPI application of
``cletrial serve`` is called with one ``POST /api/patients/{id}/visits`` after another (the same
body as ``bench_web_saves.py``: a complete CLASI form, a complete SLEDAI-2K form and two graded
labs), on a SQLite file (WAL, ``synchronous=FULL``), by one patient (the patient's history grows
with each save, as in the HTTP benchmark). It prints the process CPU per save (user + system,
``time.process_time``), the wall time per save, and the figure by blocks of saves, so that a
cost growing with the history shows. With ``--profile FILE`` the saves run under cProfile and
the top functions by cumulative time are printed (profiling slows them: compare profiles with
profiles); the work FastAPI sends to its threadpool then runs inline on the profiled thread
(cProfile sees one thread only).

Usage::

    python3 benchmarks/bench_web_save_cpu.py                 # 400 saves
    python3 benchmarks/bench_web_save_cpu.py --saves 1000 --blocks 5
    python3 benchmarks/bench_web_save_cpu.py --profile /tmp/save.pstats
    python3 benchmarks/bench_web_save_cpu.py --default-gc   # without tune_gc_for_serving
    python3 benchmarks/bench_web_save_cpu.py --visits-per-patient 20   # histories as in a trial
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio.to_thread

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_web_saves import CLASI, SLEDAI  # benchmarks/ is on sys.path when run as a script
from tests.web.conftest import PASSWORD, build_study

from cletrial.web import WebSettings, create_app
from cletrial.web.server import tune_gc_for_serving


async def _call(app: Any, method: str, path: str, body: Any, token: str | None) -> tuple[int, Any]:
    """One request through the ASGI application; its status and decoded JSON answer."""
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000)}  # fmt: skip
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    text = b"".join(chunks)
    return status, json.loads(text) if text else None


def _body(day: dt.date, kind: str) -> dict[str, Any]:
    return {"visit_date": day.isoformat(), "kind": kind, "clasi": CLASI, "sledai": SLEDAI,
            "labs": [{"test": "neutrophils", "value": 2.1, "unit": "10^9/L"},
                     {"test": "platelets", "value": 180, "unit": "10^9/L"}]}  # fmt: skip


async def _login_and_patient(app: Any, site_id: int) -> tuple[str, str]:
    """Log in as the investigator and screen a patient: the token and the visits' path."""
    credentials = {"username": "investigator", "password": PASSWORD}
    status, login = await _call(app, "POST", "/api/auth/login", credentials, None)
    assert status == 200, login
    token = login["token"]
    return token, await _patient(app, token, site_id, "CPU-1")


async def _patient(app: Any, token: str, site_id: int, code: str) -> str:
    """Screen a patient: the visits' path."""
    status, patient = await _call(app, "POST", "/api/patients", {
        "site_id": site_id, "study_code": code, "screening_date": "2020-01-01",
        "screening": {"screening_date": "2020-01-01"}}, token)  # fmt: skip
    assert status == 201, patient
    return f"/api/patients/{patient['id']}/visits"


class _Plan:
    """Which patient each measured save goes to: the first patient for every save, or, with
    ``per_patient``, fresh patients (screened, with a baseline visit, before the clock runs)
    that take ``per_patient`` saves each, so the history stays as long as a real one."""

    def __init__(self, path: str, day: dt.date, per_patient: int) -> None:
        self.patients = [(path, day)]
        self.per_patient = per_patient
        self.done = 0

    async def add_patients(self, app: Any, token: str, site_id: int, saves: int) -> None:
        if not self.per_patient:
            return
        self.patients = []
        for number in range(-(-saves // self.per_patient)):
            path = await _patient(app, token, site_id, f"CPU-{number + 2}")
            status, answer = await _call(app, "POST", path,
                                         _body(dt.date(2020, 1, 6), "baseline"), token)  # fmt: skip
            assert status == 201, answer
            self.patients.append((path, dt.date(2020, 1, 7)))

    def next(self) -> tuple[str, dt.date]:
        """The path and day of the next save (and move on)."""
        at = self.done // self.per_patient if self.per_patient else 0
        path, day = self.patients[at]
        self.patients[at] = (path, day + dt.timedelta(days=1))
        self.done += 1
        return path, day


async def _saves(app: Any, token: str, path: str, first: dt.date, count: int) -> dt.date:
    """``count`` visit saves from ``first`` on, a day apart; the next day free."""
    day = first
    for _ in range(count):
        status, answer = await _call(app, "POST", path, _body(day, "scheduled"), token)
        if status != 201:
            raise SystemExit(f"save answered {status}: {str(answer)[:300]}")
        day += dt.timedelta(days=1)
    return day


async def _planned_saves(app: Any, token: str, plan: _Plan, count: int) -> None:
    """``count`` visit saves, each where ``plan`` sends it."""
    for _ in range(count):
        path, day = plan.next()
        status, answer = await _call(app, "POST", path, _body(day, "scheduled"), token)
        if status != 201:
            raise SystemExit(f"save answered {status}: {str(answer)[:300]}")


async def _inline(func: Any, *args: Any, **_options: Any) -> Any:
    """``anyio.to_thread.run_sync`` run on the calling thread (so cProfile sees the work)."""
    return func(*args)


async def _run(
    saves: int, blocks: int, profile: str | None, tune_gc: bool = True, per_patient: int = 0
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        study = build_study(f"sqlite:///{tmp}/save.sqlite")
        app = create_app(WebSettings(database_url=study.url), engine=study.engine)
        if tune_gc:
            tune_gc_for_serving()  # as `cletrial serve`
        async with _lifespan(app):
            token, path = await _login_and_patient(app, study.site_a)
            status, answer = await _call(app, "POST", path, _body(dt.date(2020, 1, 6), "baseline"),
                                         token)  # fmt: skip
            assert status == 201, answer
            # warm-up: connections, compiled queries, caches
            day = await _saves(app, token, path, dt.date(2020, 1, 7), 19)
            plan = _Plan(path, day, per_patient)
            per_block = max(1, saves // blocks)
            await plan.add_patients(app, token, study.site_a, per_block * blocks)
            profiler = cProfile.Profile() if profile else None
            if profiler:
                anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
            gc_note = "as `cletrial serve`" if tune_gc else "CPython's defaults"
            who = (f"{len(plan.patients)} patients of {per_patient} saves after a baseline visit"
                   if per_patient else "one patient (after 20 visits)")  # fmt: skip
            print(f"{per_block * blocks} visit saves in process (SQLite WAL, synchronous=FULL), "
                  f"{who}; garbage collector: {gc_note}")  # fmt: skip
            total_cpu = total_wall = 0.0
            for block in range(blocks):
                cpu0, wall0 = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                await _planned_saves(app, token, plan, per_block)
                if profiler:
                    profiler.disable()
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                total_cpu, total_wall = total_cpu + cpu, total_wall + wall
                done = (block + 1) * per_block
                print(f"  saves {done - per_block + 1:5d}-{done:5d}: "
                      f"CPU {cpu / per_block * 1000:.2f} ms/save, "
                      f"wall {wall / per_block * 1000:.2f} ms/save")  # fmt: skip
            n = per_block * blocks
            print(f"all: CPU {total_cpu / n * 1000:.2f} ms/save, "
                  f"wall {total_wall / n * 1000:.2f} ms/save")  # fmt: skip
        study.engine.dispose()
        if profiler and profile:
            profiler.dump_stats(profile)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(70)


class _lifespan:  # noqa: N801 - used as ``async with _lifespan(app)``
    """Run the application's startup and shutdown around the saves."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.context: Any = None

    async def __aenter__(self) -> None:
        self.context = self.app.router.lifespan_context(self.app)
        await self.context.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self.context.__aexit__(*exc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=400, help="measured saves (default 400)")
    parser.add_argument("--blocks", type=int, default=4, help="blocks reported (default 4)")
    parser.add_argument("--profile", help="write a cProfile of the measured saves to this file")
    parser.add_argument(
        "--default-gc", action="store_true", help="keep CPython's garbage collector settings"
    )
    parser.add_argument(
        "--visits-per-patient", type=int, default=0, metavar="N",
        help="give each patient N saves, then take a new one (default 0: every save to one "
        "patient, whose history grows; the 2012 protocol plans about 15 visits over 104 weeks)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.visits_per_patient < 0:
        parser.error(f"--visits-per-patient {args.visits_per_patient}: must be 0 or more")
    asyncio.run(_run(args.saves, args.blocks, args.profile, not args.default_gc,
                     args.visits_per_patient))  # fmt: skip


if __name__ == "__main__":
    main()
