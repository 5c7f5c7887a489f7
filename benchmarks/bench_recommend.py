"""Benchmark: dose recommendations for N synthetic patient histories on one core.

Builds a pool of synthetic courses (seeded) shaped like the 2012 trial's patients: about a year
of follow-up with visits at weeks 2, 4, 8, 12, 16, 20, 24, 36 and 48 (CLASI scores and
SLEDAI-2K), blood counts (WBC, neutrophils, platelets) weekly for 8 weeks then every 4 weeks,
pregnancy tests for half of the patients, occasional adverse events, and the regimens the engine
itself recommended at each visit (early complete responders who taper and relapse, partial
responders, non-responders escalated to 10 mg and stopped at week 12).

Two populations are timed, each repeated from the pool to N histories:

- typical: each history as it stood at a random visit of its course (what a site asks at a
  visit);
- end of course: each history after its full year.

For each, two figures in CPU seconds (one core): decoding and validating every history from its
JSON line and recommending on its last date; and recommending only, on histories parsed
beforehand.

Usage::

    python3 benchmarks/bench_recommend.py             # n = 100,000
    python3 benchmarks/bench_recommend.py --n 20000 --pool 500
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from typing import Any

import msgspec

from cletrial.protocol import decode_history, load_protocol, parse_history, recommend
from cletrial.protocol.definition import ProtocolDefinition

VISIT_WEEKS = (2, 4, 8, 12, 16, 20, 24, 36, 48)
MEDICATIONS = ["hydroxychloroquine 200 mg/day", "prednisone 5 mg/day"]


def _labs(start: dt.date, rng: random.Random, weeks: int) -> list[dict[str, Any]]:
    days = [7 * w for w in range(1, 9)] + [7 * w for w in range(12, weeks + 1, 4)]
    labs = []
    for day in days:
        date = (start + dt.timedelta(days=day)).isoformat()
        neutrophils = rng.choice([rng.randint(1600, 5000)] * 19 + [rng.randint(1100, 1500)])
        labs += [
            {
                "date": date,
                "test": "wbc",
                "value": round(rng.uniform(3.2, 9.0), 1),
                "unit": "10^9/L",
            },
            {"date": date, "test": "neutrophils", "value": neutrophils, "unit": "/mm3"},
            {"date": date, "test": "platelets", "value": rng.randint(140, 400), "unit": "10^9/L"},
        ]
    return labs


def _pregnancy_tests(start: dt.date, weeks: int) -> list[dict[str, Any]]:
    days = [-12, 0, 7, 14, 21, 28] + [7 * w for w in range(8, weeks + 1, 4)]
    return [
        {"date": (start + dt.timedelta(days=d)).isoformat(), "result": "negative"} for d in days
    ]


def synthetic_history(rng: random.Random, protocol: ProtocolDefinition) -> dict[str, Any]:
    """One synthetic history whose regimens follow the engine's own recommendations."""
    start = dt.date(2009, 1, 5) + dt.timedelta(days=rng.randint(0, 540))
    baseline = rng.randint(3, 20)
    frp = rng.random() < 0.5
    history: dict[str, Any] = {
        "patient_id": f"SYN{rng.randint(0, 10**6):06d}",
        "protocol": protocol.id,
        "sex": "F",
        "reproductive_potential": frp,
        "irregular_cycles": False,
        "first_dose_date": start.isoformat(),
        "baseline": {
            "date": start.isoformat(),
            "clasi": {"activity": baseline, "damage": 2},
            "sledai": {"score": rng.randint(0, 6)},
            "medications": MEDICATIONS,
        },
        "assessments": [],
        "labs": _labs(start, rng, VISIT_WEEKS[-1]),
        "doses": [{"date": start.isoformat(), "regimen": protocol.file.dosing.start_regimen}],
        "adverse_events": [],
        "pregnancy_tests": _pregnancy_tests(start, VISIT_WEEKS[-1]) if frp else [],
        "events": [],
    }
    decay = rng.choice([0.05, 0.2, 0.4, 0.6, 0.9])
    level = float(baseline)
    sledai = history["baseline"]["sledai"]["score"]
    for week in VISIT_WEEKS:
        day = start + dt.timedelta(weeks=week)
        on_drug = history["doses"][-1]["regimen"] != "off"
        level = level * decay if on_drug else level
        if history["doses"][-1]["regimen"] in ("5_alternate", "5_thrice_weekly", "off"):
            level = baseline * 0.6 if rng.random() < 0.3 else level
        activity = min(70, max(0, round(level + rng.choice([0, 0, 0, 1]) - 0.4)))
        history["assessments"].append(
            {
                "date": day.isoformat(),
                "clasi": {"activity": activity},
                "sledai": {"score": sledai},
                "medications": MEDICATIONS,
            }
        )
        labs = [x for x in history["labs"] if x["date"] <= day.isoformat()]
        cut = dict(
            history,
            labs=labs,
            pregnancy_tests=[t for t in history["pregnancy_tests"] if t["date"] <= day.isoformat()],
        )
        rec = recommend(parse_history(cut), protocol, day)
        if rec.regimen is not None and rec.regimen.id != history["doses"][-1]["regimen"]:
            history["doses"].append({"date": day.isoformat(), "regimen": rec.regimen.id})
            if rec.action == "stop":
                break
    if rng.random() < 0.1:
        history["adverse_events"].append(
            {
                "term": "Insomnia",
                "start": (start + dt.timedelta(weeks=6)).isoformat(),
                "grade": 2,
                "causality": "probable",
                "serious": False,
            }
        )
    last = max(history["assessments"][-1]["date"], history["labs"][-1]["date"])
    history["labs"] = [x for x in history["labs"] if x["date"] <= last]
    history["pregnancy_tests"] = [t for t in history["pregnancy_tests"] if t["date"] <= last]
    return history


def _last_date(history: dict[str, Any]) -> dt.date:
    dates = [
        history["assessments"][-1]["date"],
        history["labs"][-1]["date"],
        history["doses"][-1]["date"],
    ]
    return dt.date.fromisoformat(max(dates))


def cut(history: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """The history as it stood on ``day`` (everything dated later dropped)."""
    text = day.isoformat()
    out = dict(history)
    for key in ("assessments", "labs", "doses", "pregnancy_tests", "events"):
        out[key] = [x for x in history[key] if x["date"] <= text]
    out["adverse_events"] = [x for x in history["adverse_events"] if x["start"] <= text]
    return out


def _time(
    lines: list[bytes],
    dates: list[dt.date],
    n: int,
    parsed: list[Any] | None,
    protocol: ProtocolDefinition,
) -> tuple[float, dict[str, int]]:
    """CPU seconds for ``n`` recommendations (decoding each JSON line unless ``parsed``)."""
    size = len(lines)
    actions: dict[str, int] = {}
    t0 = time.process_time()
    if parsed is None:
        for i in range(n):
            rec = recommend(decode_history(lines[i % size]), protocol, dates[i % size])
            actions[rec.action] = actions.get(rec.action, 0) + 1
    else:
        for i in range(n):
            recommend(parsed[i % size], protocol, dates[i % size])
    return time.process_time() - t0, actions


def _report(
    title: str,
    pool: list[dict[str, Any]],
    dates: list[dt.date],
    n: int,
    protocol: ProtocolDefinition,
) -> None:
    lines = [msgspec.json.encode(h) for h in pool]
    print(
        f"{title}: {len(pool)} distinct histories, mean "
        f"{sum(len(line) for line in lines) / len(lines):,.0f} bytes, "
        f"{sum(len(h['labs']) for h in pool) / len(pool):.0f} labs, "
        f"{sum(len(h['assessments']) for h in pool) / len(pool):.1f} assessments, "
        f"{sum(len(h['doses']) for h in pool) / len(pool):.1f} regimens each"
    )
    elapsed, actions = _time(lines, dates, n, None, protocol)
    print(
        f"  decode + validate + recommend: {n:,} histories in {elapsed:.2f} s CPU = "
        f"{n / elapsed:,.0f} histories/s (one core)"
    )
    parsed = [decode_history(line) for line in lines]
    elapsed, _ = _time(lines, dates, n, parsed, protocol)
    print(
        f"  recommend only (pre-parsed):   {n:,} histories in {elapsed:.2f} s CPU = "
        f"{n / elapsed:,.0f} histories/s (one core)"
    )
    print("  actions: " + ", ".join(f"{k} {v:,}" for k, v in sorted(actions.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="histories to recommend for")
    parser.add_argument("--pool", type=int, default=2_000, help="distinct synthetic histories")
    parser.add_argument("--seed", type=int, default=2012)
    args = parser.parse_args()
    protocol = load_protocol()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    full = [synthetic_history(rng, protocol) for _ in range(args.pool)]
    print(f"built {args.pool:,} synthetic courses in {time.perf_counter() - t0:.1f} s")
    visits = [rng.choice(h["assessments"])["date"] for h in full]
    typical = [cut(h, dt.date.fromisoformat(v)) for h, v in zip(full, visits, strict=True)]
    _report(
        "typical: each history as it stood at a random visit of its course",
        typical,
        [dt.date.fromisoformat(v) for v in visits],
        args.n,
        protocol,
    )
    _report(
        "end of course: each history after a full year",
        full,
        [_last_date(h) for h in full],
        args.n,
        protocol,
    )


if __name__ == "__main__":
    main()
