"""``GET /api/patients/{id}/visits`` reads forms and labs in batches, on SQLite and PostgreSQL.

The number of SQL statements of the listing does not grow with the number of visits (counted
with a ``before_cursor_execute`` listener on the application's engine), and the listing is the
same JSON as reading each visit on its own (``GET /api/visits/{id}``, ``visit_public``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.statements import count_statements
from tests.web.conftest import LazyHeaders, Study, build_study

from cletrial.instruments import fill_absent_clasi_items, fill_absent_sledai_items
from cletrial.store import UnitOfWork
from cletrial.web import WebSettings, create_app
from cletrial.web.clinical import visit_public, visits_public

DAY0 = dt.date(2024, 1, 15)
FORM = fill_absent_clasi_items(
    {
        "regions": {"arms": {"erythema": 2, "scale": 1}, "nose": {"erythema": 3}},
        "recent_hair_loss": 1,
    }
)


@dataclass
class Listing:
    study: Study
    app: FastAPI
    client: TestClient
    headers: dict[str, str]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def listing(request: pytest.FixtureRequest) -> Iterator[Listing]:
    """The application on a study database, with an investigator of site A logged in."""
    if request.param == "sqlite":
        study: Study = request.getfixturevalue("study")
    else:
        study = build_study(request.getfixturevalue("pg_url"))
    app = create_app(WebSettings(database_url=study.url), engine=study.engine)
    with TestClient(app) as client:
        yield Listing(study, app, client, LazyHeaders(client)["investigator"])
    if request.param != "sqlite":
        study.engine.dispose()


def _patient(study: Study, code: str, visits: int) -> int:
    """A patient of site A with ``visits`` visits: items or scores or no CLASI, SLEDAI-2K
    descriptors or score or none, zero to three labs, medications, one signed visit."""
    with UnitOfWork(study.engine, user="setup") as uow:
        patient = uow.patients.create(study_id=study.study_id, site_id=study.site_a,
                                      study_code=code, sex="F")  # fmt: skip
        created = []
        for i in range(visits):
            day = DAY0 + dt.timedelta(weeks=4 * i)
            visit = uow.visits.create(
                patient_id=patient.id, visit_date=day, kind="baseline" if i == 0 else "scheduled",
                label=f"week {4 * i}", medications=["prednisone 5 mg/day"] if i % 2 else None,
                clasi=FORM if i % 3 == 0 else None,
                sledai=fill_absent_sledai_items({"rash": True, "alopecia": i % 2 == 0})
                if i % 4 == 0 else None,
            )  # fmt: skip
            if i % 3 == 1:
                uow.clasi.save_scores(visit.id, activity=i % 7, damage=1)
            if i % 4 == 2:
                uow.sledai.save_score(visit.id, 4)
            labs = (("neutrophils", 1190.0, "/mm3"), ("platelets", 90.0, "10^9/L"),
                    ("hemoglobin", 11.5, "g/dL"))[: i % 4]  # fmt: skip
            for test, value, unit in labs:
                uow.labs.add(patient_id=patient.id, visit_id=visit.id, sample_date=day,
                             test=test, value=value, unit=unit)  # fmt: skip
            created.append(visit)
        uow.labs.add(patient_id=patient.id, sample_date=DAY0 + dt.timedelta(days=2),
                     test="wbc", value=3.1, unit="10^9/L")  # not tied to a visit  # fmt: skip
        if created:
            signed = created[min(1, visits - 1)]
            uow.visits.sign(signed.id, expected_version=signed.version)
    return patient.id


def _get(listing: Listing, path: str) -> Any:
    response = listing.client.get(path, headers=listing.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_statements_of_the_listing_do_not_grow_with_the_visits(listing: Listing) -> None:
    few = _patient(listing.study, "A-002", 2)
    many = _patient(listing.study, "A-020", 20)
    engine = listing.app.state.engine
    _get(listing, f"/api/patients/{few}/visits")  # the first request warms caches up
    counts = []
    for patient_id, visits in ((few, 2), (many, 20), (few, 2)):
        with count_statements(engine) as statements:
            body = _get(listing, f"/api/patients/{patient_id}/visits")
        assert len(body) == visits
        counts.append(len(statements))
        for table in ("clasi_assessments", "sledai_assessments", "labs"):
            assert sum(f"FROM {table}" in s for s in statements) == 1, (table, statements)
    assert counts[0] == counts[1] == counts[2], counts


def test_the_listing_is_the_same_json_as_each_visit_read_alone(listing: Listing) -> None:
    patient_id = _patient(listing.study, "A-020", 20)
    listed = _get(listing, f"/api/patients/{patient_id}/visits")
    assert [v["visit_date"] for v in listed] == sorted(v["visit_date"] for v in listed)
    one_by_one = [_get(listing, f"/api/visits/{visit['id']}") for visit in listed]
    assert listed == one_by_one
    with UnitOfWork(listing.study.engine, read_only=True) as uow:
        visits = uow.visits.for_patient(patient_id)
        per_visit = [visit_public(uow, v).model_dump(mode="json") for v in visits]
        batched = [v.model_dump(mode="json") for v in visits_public(uow, visits)]
    assert listed == per_visit == batched
    # The data are varied enough for the comparison to mean something.
    clasi_entries = {v["clasi"]["entry"] if v["clasi"] else None for v in listed}
    sledai_entries = {v["sledai"]["entry"] if v["sledai"] else None for v in listed}
    assert clasi_entries == {"items", "scores", None}
    assert sledai_entries == {"items", "score", None}
    assert {len(v["labs"]) for v in listed} == {0, 1, 2, 3}
    assert {v["status"] for v in listed} == {"open", "signed"}
    assert all(lab["test"] != "wbc" for v in listed for lab in v["labs"])


def test_a_patient_without_visits_lists_none(listing: Listing) -> None:
    patient_id = _patient(listing.study, "A-000", 0)
    assert _get(listing, f"/api/patients/{patient_id}/visits") == []
