"""The session lookup of every authenticated request, now that sessions are in the database.

Times, on one thread, :meth:`cletrial.web.security.SessionRegistry.lookup` (one primary-key
query of ``web_sessions`` joined to ``users``) over 1,000 live sessions, and the whole
authentication dependency as a request sees it (lookup, user snapshot from the process cache,
CSRF rules) through ``GET /api/auth/me``. Printed: microseconds of wall and CPU time per
lookup, medians of ``--repeat`` rounds; SQLite (WAL file) and, with ``--postgres``, PostgreSQL
(tests/pg_server.py).

Usage::

    python3 benchmarks/bench_session_lookup.py
    python3 benchmarks/bench_session_lookup.py --postgres --lookups 20000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.web import WebSettings, create_app
from cletrial.web.security import SessionRegistry

PASSWORD = "a long lookup passphrase"


def _per_call(fn: Callable[[], object], n: int, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            fn()
        walls.append((time.perf_counter() - wall) / n * 1e6)
        cpus.append((time.process_time() - cpu) / n * 1e6)
    return statistics.median(walls), statistics.median(cpus)


def run(url: str, label: str, lookups: int, repeat: int) -> None:
    """Print the lookup figures for the database at ``url``."""
    engine = create_engine_for(url)
    upgrade(engine)
    with UnitOfWork(engine, user="bench") as uow:
        user = uow.users.create(username="bench", password=PASSWORD, role="monitor")
    registry = SessionRegistry(engine, idle_timeout_s=1800, absolute_timeout_s=43200)
    tokens = [registry.create(user.id)[0] for _ in range(1000)]
    token = tokens[500]
    wall, cpu = _per_call(lambda: registry.lookup(token), lookups, repeat)
    print(f"{label}: SessionRegistry.lookup, 1000 sessions: {wall:.0f} us wall, "
          f"{cpu:.0f} us CPU per lookup")  # fmt: skip
    app = create_app(WebSettings(database_url=url), engine=engine)
    with TestClient(app) as client:
        body = {"username": "bench", "password": PASSWORD}
        login = client.post("/api/auth/login", json=body).json()
        bearer = {"Authorization": f"Bearer {login['token']}"}
        client.get("/api/auth/me", headers=bearer)
        wall, cpu = _per_call(lambda: client.get("/api/auth/me", headers=bearer),
                              max(lookups // 10, 100), repeat)  # fmt: skip
    print(f"{label}: GET /api/auth/me through TestClient (whole request, client included): "
          f"{wall:.0f} us wall, {cpu:.0f} us CPU")  # fmt: skip
    engine.dispose()


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/sessions.sqlite", "SQLite", args.lookups, args.repeat)
    if args.postgres:
        sys.path.insert(0, "tests")
        from pg_server import PostgresServer

        with PostgresServer.start() as server:
            run(server.create_database("bench_sessions"), "PostgreSQL", args.lookups,
                args.repeat)  # fmt: skip


if __name__ == "__main__":
    main()
