"""Benchmark: the pure edit check engine over N synthetic patients' forms, on one core.

Builds N patients' records in memory (seeded), shaped like the store's rows (plain dicts of the
tables' columns, dates as ``datetime.date``): a patient, a screening, a baseline and three
scheduled visits with CLASI forms, two SLEDAI-2K forms, blood counts (WBC, neutrophils,
platelets) on two dates, two or three doses, an adverse event, a pregnancy test and a
concomitant medication - about 23 records a patient. A few per cent of the records are made to
fail a check (a visit out of its window, an adverse event ending before it starts, a missing
serious criterion, an implausible platelet count, a SLEDAI-2K item without its lab, a CLASI
damage below baseline, a dose that jumps the ladder, ...).

It then times ``compile_edit_checks(protocol).run(forms)`` over every patient (CPU time, one
core, best of ``--rounds``) and prints the (check, record) evaluations per second - the unit of
the "form checks per second" target - with patients per second and the findings by check. No
database is involved: this is the engine's share of ``cletrial checks run``.

Usage::

    python3 benchmarks/bench_edit_checks_core.py                 # n = 10,000
    python3 benchmarks/bench_edit_checks_core.py --n 50000 --protocol thalidomide-cle-example
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections import Counter
from typing import Any

from cletrial.protocol import compile_edit_checks, load_protocol
from cletrial.protocol.definition import ProtocolDefinition

Row = dict[str, Any]


class _Ids:
    def __init__(self) -> None:
        self.next = 0

    def __call__(self) -> int:
        self.next += 1
        return self.next


def _lab(new_id: _Ids, pid: int, vid: int | None, day: dt.date, test: str, value: float) -> Row:
    return {"id": new_id(), "version": 1, "patient_id": pid, "visit_id": vid, "sample_date": day,
            "test": test, "value": value, "unit": "10^9/L", "lln": None, "ctcae_term": None,
            "ctcae_grade": None, "ctcae_version": "5.0", "std_value": value,
            "std_unit": "10^9/L", "value_confirmed": None, "lln_source": None}  # fmt: skip


class _Patient:
    """Builds one synthetic patient's forms; ``bad()`` makes a record fail (3 %)."""

    def __init__(self, rng: random.Random, new_id: _Ids, protocol: ProtocolDefinition) -> None:
        self.rng, self.new_id, self.protocol = rng, new_id, protocol
        self.pid = new_id()
        self.start = dt.date(2012, 1, 2) + dt.timedelta(days=rng.randint(0, 700))

    def bad(self) -> bool:
        return self.rng.random() < 0.03

    def visit_forms(self) -> dict[str, list[Row]]:
        """Baseline and weeks 4, 8, 12: visits, CLASI, SLEDAI-2K (first and last), counts."""
        rng, bad, new_id, pid = self.rng, self.bad, self.new_id, self.pid
        visits, clasi, sledai, labs = [], [], [], []
        damage0 = rng.randint(1, 8)
        for k, week in enumerate((0, 4, 8, 12)):
            shift = 0 if week == 0 else rng.choice([-20, 20]) if bad() else rng.randint(-3, 3)
            day = self.start + dt.timedelta(days=7 * week + shift)
            vid = new_id()
            visits.append({"id": vid, "version": 1, "patient_id": pid, "visit_date": day,
                           "kind": "baseline" if k == 0 else "scheduled", "label": None,
                           "medications": None, "notes": None, "status": "open",
                           "signed_by": None, "signed_at": None, "signed_name": None,
                           "sign_meaning": None})  # fmt: skip
            clasi.append({"id": new_id(), "version": 1, "visit_id": vid, "entry": "scores",
                          "activity": rng.randint(0, 12),
                          "damage": damage0 + ((-2 if bad() else rng.randint(0, 1)) if k else 0),
                          "activity_severity": "mild"})  # fmt: skip
            if k not in (0, 3):
                continue
            sledai.append({"id": new_id(), "version": 1, "visit_id": vid, "entry": "items",
                           "score": 2, "rash": True, "thrombocytopenia": bad(),
                           "leukopenia": None, "low_complement": False})  # fmt: skip
            if k == 0 or rng.random() < 0.8:
                counts = (("wbc", rng.uniform(3, 9)), ("neutrophils", rng.uniform(1.6, 5)),
                          ("platelets", 900.0 if bad() else rng.uniform(150, 400)))  # fmt: skip
                for test, value in counts:
                    labs.append(_lab(new_id, pid, vid, day, test, round(value, 2)))
        return {"visits": visits, "clasi_assessments": clasi, "sledai_assessments": sledai,
                "labs": labs}  # fmt: skip

    def doses(self, visits: list[Row]) -> list[Row]:
        """The start regimen, then a step down or the escalation, sometimes a third dose."""
        p, rng, ladder = self.protocol, self.rng, [r.id for r in self.protocol.regimens]
        second = ladder[p.escalation] if rng.random() < 0.3 else ladder[p.start + 1]
        doses = [{"id": self.new_id(), "version": 1, "patient_id": self.pid,
                  "start_date": self.start, "regimen": ladder[p.start], "note": None,
                  "visit_id": visits[0]["id"]},
                 {"id": self.new_id(), "version": 1, "patient_id": self.pid,
                  "start_date": self.start + dt.timedelta(days=28), "regimen": second,
                  "note": None, "visit_id": visits[1]["id"]}]  # fmt: skip
        if rng.random() < 0.5:
            jump = ladder[0] if self.bad() else ladder[min(p.off - 1, p.start + 2)]
            doses.append({**doses[-1], "id": self.new_id(), "regimen": jump,
                          "start_date": self.start + dt.timedelta(days=56)})  # fmt: skip
        return doses

    def other_forms(self) -> dict[str, list[Row]]:
        """Patient, screening, an adverse event, a pregnancy test, a medication."""
        rng, bad, new_id, pid, start = self.rng, self.bad, self.new_id, self.pid, self.start
        onset = start + dt.timedelta(days=rng.randint(1, 80))
        serious = rng.random() < 0.1
        criterion = None if bad() or not serious else "hospitalisation"
        return {
            "patients": [{"id": pid, "version": 1, "study_id": 1, "site_id": 1,
                          "study_code": f"P{pid:06d}", "sex": "F",
                          "reproductive_potential": None if bad() else rng.random() < 0.5,
                          "irregular_cycles": False, "cle_subtype": "SCLE", "sle": False,
                          "diagnosis_date": "2005", "first_dose_date": start}],
            "screenings": [{"id": new_id(), "version": 1, "patient_id": pid,
                            "screening_date": start - dt.timedelta(days=7),
                            "record_json": "{}", "verdict": "eligible"}],
            "adverse_events": [{"id": new_id(), "version": 1, "patient_id": pid,
                                "term": "Insomnia", "start_date": onset,
                                "end_date": onset + dt.timedelta(days=-3 if bad() else 9),
                                "grade": rng.randint(1, 3), "causality": "possible",
                                "serious": serious, "serious_criterion": criterion,
                                "outcome": "recovered", "note": None, "visit_id": None}],
            "pregnancy_tests": [{"id": new_id(), "version": 1, "patient_id": pid,
                                 "test_date": start - dt.timedelta(days=1), "result": "negative",
                                 "method": None if bad() else "serum", "visit_id": None}],
            "concomitant_medications": [{"id": new_id(), "version": 1, "patient_id": pid,
                                         "name": "hydroxychloroquine", "baseline": True,
                                         "start_date": start - dt.timedelta(days=400),
                                         "end_date": None, "note": None}],
        }  # fmt: skip


def synthetic_patient(
    rng: random.Random, new_id: _Ids, protocol: ProtocolDefinition
) -> dict[str, list[Row]]:
    """One patient's forms, keyed by store table name; a few records fail a check."""
    patient = _Patient(rng, new_id, protocol)
    forms = patient.other_forms() | patient.visit_forms()
    forms["doses"] = patient.doses(forms["visits"])
    return forms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="synthetic patients")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes (best is shown)")
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--protocol", default="lenalidomide-cle-2012")
    args = parser.parse_args()
    protocol = load_protocol(args.protocol)
    rng, new_id = random.Random(args.seed), _Ids()
    t0 = time.perf_counter()
    patients = [synthetic_patient(rng, new_id, protocol) for _ in range(args.n)]
    records = sum(len(rows) for forms in patients for rows in forms.values())
    print(f"built {args.n:,} synthetic patients ({records / args.n:.1f} records each) in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    t0 = time.process_time()
    checks = compile_edit_checks(protocol)
    print(f"compiled {len(checks.checks)} edit checks of {protocol.id} in "
          f"{(time.process_time() - t0) * 1000:.1f} ms CPU")  # fmt: skip
    evaluations = sum(checks.evaluations(forms) for forms in patients)
    best, findings = float("inf"), Counter[str]()
    for _ in range(args.rounds):
        found: Counter[str] = Counter()
        t0 = time.process_time()
        for forms in patients:
            for finding in checks.run(forms):
                found[finding.check_id] += 1
        best, findings = min(best, time.process_time() - t0), found
    print(f"run(): {args.n:,} patients, {evaluations:,} (check, record) evaluations in "
          f"{best:.3f} s CPU (best of {args.rounds}) = {evaluations / best:,.0f} evaluations/s, "
          f"{args.n / best:,.0f} patients/s, {best / args.n * 1e6:.1f} us/patient "
          "(one core)")  # fmt: skip
    print(f"findings: {sum(findings.values()):,} on "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(findings.items())))  # fmt: skip


if __name__ == "__main__":
    main()
