"""The dashboard's per-patient lines are cached and recomputed exactly when the patient's
records change (insert, update, delete, signature) or the day changes."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, Study, make_patient, make_visit

from cletrial.instruments import fill_absent_sledai_items
from cletrial.store import UnitOfWork
from cletrial.web import summaries
from cletrial.web.protocol_cache import ProtocolCache
from cletrial.web.summaries import SummaryCache, compute_fingerprints, patient_summaries

H = dict[str, dict[str, str]]
TODAY = dt.date(2024, 3, 1)


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Patient ids whose line was computed (not taken from the cache), in order."""
    seen: list[int] = []
    original = summaries._compute_line

    def counting(uow: UnitOfWork, protocol: Any, patient: Any, today: dt.date) -> Any:
        seen.append(patient.id)
        return original(uow, protocol, patient, today)

    monkeypatch.setattr(summaries, "_compute_line", counting)
    return seen


def _lines(study: Study, cache: SummaryCache, today: dt.date = TODAY) -> dict[int, Any]:
    protocol = ProtocolCache("lenalidomide-cle-2012")
    with UnitOfWork(study.engine, read_only=True) as uow:
        patients = uow.patients.list(site_id=study.site_a)
        rows = patient_summaries(uow, protocol, cache, patients, today)
    return {row["patient"].id: {k: v for k, v in row.items() if k != "patient"} for row in rows}


def test_lines_are_recomputed_only_for_changed_patients(
    client: TestClient, headers: H, study: Study, computed: list[int]
) -> None:
    h = headers["investigator"]
    first, second = (make_patient(client, h, study.site_a, code) for code in ("A-001", "A-002"))
    visit = make_visit(client, h, first)
    cache = SummaryCache()
    before = _lines(study, cache)
    assert sorted(computed) == [first, second] and len(cache) == 2
    computed.clear()
    assert _lines(study, cache) == before and computed == []  # nothing changed: all cached

    def changed_only(expected: int) -> None:
        computed.clear()
        lines = _lines(study, cache)
        assert computed == [expected]
        assert lines == _lines(study, SummaryCache())  # the cache never differs from fresh

    make_visit(client, h, second, {"visit_date": "2024-01-20", "kind": "baseline"})  # insert
    changed_only(second)
    patched = client.patch(f"/api/visits/{visit['id']}", headers=h,
                           json={"version": 1, "reason": "typo", "notes": "x"})  # fmt: skip
    assert patched.status_code == 200  # update
    changed_only(first)
    signed = client.post(f"/api/visits/{visit['id']}/sign", headers=h,
                         json={"version": 2, "password": PASSWORD})  # fmt: skip
    assert signed.status_code == 200
    changed_only(first)
    assert _lines(study, cache)[first]["open_visits"] == 0
    unlocked = client.post(f"/api/visits/{visit['id']}/unlock", headers=h,
                           json={"version": 3, "reason": "correct the CLASI"})  # fmt: skip
    assert unlocked.status_code == 200
    changed_only(first)
    removed = client.patch(f"/api/visits/{visit['id']}", headers=h, json={
        "version": 4, "reason": "not assessed", "remove_clasi": True, "clasi_version": 1,
    })  # fmt: skip
    assert removed.status_code == 200, removed.text  # delete of a form (through its visit)
    changed_only(first)
    dose = client.post(f"/api/patients/{second}/doses", headers=h,
                       json={"start_date": "2024-01-20", "regimen": "5_daily"})  # fmt: skip
    assert dose.status_code == 201, dose.text
    changed_only(second)
    computed.clear()
    _lines(study, cache, TODAY + dt.timedelta(days=1))  # a new day: every line again
    assert sorted(computed) == [first, second]


def test_fingerprint_changes_with_each_kind_of_change(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    visit = make_visit(client, h, pid)

    def fingerprint() -> Any:
        with UnitOfWork(study.engine, read_only=True) as uow:
            return compute_fingerprints(uow.connection, [pid])[pid]

    seen = [fingerprint()]
    with UnitOfWork(study.engine, user="coordinator", reason="test") as uow:
        lab = uow.labs.add(patient_id=pid, sample_date=dt.date(2024, 2, 1), test="c3",
                           value=90.0, unit="mg/dL")  # fmt: skip
    seen.append(fingerprint())
    with UnitOfWork(study.engine, user="coordinator", reason="test") as uow:
        uow.labs.update(lab.id, expected_version=1, value=91.0)
    seen.append(fingerprint())
    with UnitOfWork(study.engine, user="coordinator", reason="test") as uow:
        uow.labs.delete(lab.id, expected_version=2)
    seen.append(fingerprint())
    with UnitOfWork(study.engine, user="coordinator", reason="test") as uow:
        sledai = uow.sledai.for_visit(int(visit["id"]))
        assert sledai is not None
        form = fill_absent_sledai_items({"rash": True, "alopecia": True})
        uow.sledai.save(int(visit["id"]), form, expected_version=sledai.version)
    seen.append(fingerprint())
    with UnitOfWork(study.engine, user="coordinator", reason="test") as uow:
        uow.patients.update(pid, expected_version=uow.patients.get(pid).version, sle=True)
    seen.append(fingerprint())
    # each change gives a new fingerprint (after the delete the records are those of the start
    # again: the same fingerprint is then right)
    assert all(a != b for a, b in itertools.pairwise(seen))
    assert seen[3] == seen[0] and len(set(seen)) == len(seen) - 1
