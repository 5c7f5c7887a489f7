"""Crash test: SIGKILL a writer 200 times at random moments; nothing acknowledged is lost.

More kills: ``python3 benchmarks/crash_store.py --kills 2000``.
"""

from __future__ import annotations

from pathlib import Path

from .crash_harness import run_crash_campaign

KILLS = 200


def test_killed_writers_lose_nothing_acknowledged(db_url: str, tmp_path: Path) -> None:
    report = run_crash_campaign(db_url, tmp_path, kills=KILLS, seed=265)
    assert report.problems == []
    assert report.kills == KILLS
    assert report.acknowledged >= 0.8 * KILLS  # most writers saved before they were killed
    assert report.stored_visits >= report.acknowledged
