"""A visit save answers with the records as written, without reading them back: the answer must
be exactly what reading the visit gives."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import Study, make_patient

from cletrial.instruments import fill_absent_clasi_items, fill_absent_sledai_items

H = dict[str, dict[str, str]]


@pytest.fixture
def study(db_study: Study) -> Study:
    """Run on SQLite and on PostgreSQL."""
    return db_study


FULL = {
    "visit_date": "2024-01-15", "kind": "baseline", "label": "day 0", "notes": "n",
    "medications": ["hydroxychloroquine 200 mg/day"],
    "clasi": fill_absent_clasi_items({
        "regions": {"scalp": {"erythema": 2, "scale": 1, "dyspigmentation": 1},
                    "arms": {"erythema": 3, "scale": 2, "scarring": 2}},
        "mucous_membrane_lesions": 1, "recent_hair_loss": 1, "nonscarring_alopecia": 2,
        "scarring_alopecia": 4, "dyspigmentation_persistent": True}),
    "sledai": fill_absent_sledai_items({"rash": True, "alopecia": True, "thrombocytopenia": True,
                                        "thrombocytopenia_drug_induced": True}),
    "labs": [{"test": "platelets", "value": 90, "unit": "10^9/L", "lln": 150},
             {"test": "neutrophils", "value": 1190, "unit": "/mm3"},
             {"test": "c3", "value": 70, "unit": "mg/dL", "sample_date": "2024-01-14"}],
    "dose": {"regimen": "5_daily"},
}  # fmt: skip


def test_saved_visit_answer_is_what_reading_it_gives(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    saved = client.post(f"/api/patients/{pid}/visits", json=FULL, headers=h)
    assert saved.status_code == 201, saved.text
    assert saved.headers["content-type"] == "application/json"
    body = saved.json()
    assert body == client.get(f"/api/visits/{body['id']}", headers=h).json()
    assert body["clasi"]["activity"] > 0 and body["sledai"]["score"] > 0
    assert [lab["test"] for lab in body["labs"]] == ["c3", "neutrophils", "platelets"]
    empty = client.post(f"/api/patients/{pid}/visits", headers=h,
                        json={"visit_date": "2024-02-12"})  # fmt: skip
    assert empty.status_code == 201
    assert empty.json() == client.get(f"/api/visits/{empty.json()['id']}", headers=h).json()


def test_moving_a_visit_moves_its_results_instead_of_duplicating_them(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    first = {
        "visit_date": "2024-03-04",
        "labs": [{"test": "neutrophils", "value": 2.5, "unit": "10^9/L"}],
    }
    saved = client.post(f"/api/patients/{pid}/visits", json=first, headers=h)
    assert saved.status_code == 201, saved.text
    visit = saved.json()
    lab = visit["labs"][0]
    edit = {
        "version": visit["version"], "reason": "visit date entered wrongly",
        "visit_date": "2024-03-05",
        "labs": [{"test": "neutrophils", "value": 2.4, "unit": "10^9/L"}],
        "lab_versions": {"neutrophils": lab["version"]},
    }  # fmt: skip
    changed = client.patch(f"/api/visits/{visit['id']}", json=edit, headers=h)
    assert changed.status_code == 200, changed.text
    labs = client.get(f"/api/visits/{visit['id']}", headers=h).json()["labs"]
    assert [(x["test"], x["sample_date"], x["value"]) for x in labs] == [
        ("neutrophils", "2024-03-05", 2.4)
    ]


def test_the_visit_form_records_an_adverse_event_outcome_and_checks_it() -> None:
    from cletrial.web.forms import parse_visit_form

    row = {"visit_date": "2024-01-15", "kind": "scheduled", "ae-0.term": "Rash",
           "ae-0.start_date": "2024-01-10", "ae-0.grade": "2",
           "ae-0.causality": "possible"}  # fmt: skip
    _, errors = parse_visit_form({**row, "ae-0.outcome": "recovered"})
    assert errors == {"ae-0.outcome": "recovered needs the end date of the event"}
    body, errors = parse_visit_form({**row, "ae-0.outcome": "recovering"})
    assert errors == {} and body["adverse_events"][0]["outcome"] == "recovering"
    body, errors = parse_visit_form(row)
    assert errors == {} and body["adverse_events"][0]["outcome"] is None  # not recorded


def test_the_visit_form_offers_the_outcomes(client: TestClient, headers: H, study: Study) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    form = client.get(f"/patients/{pid}/visits/new", headers=h).text
    assert 'name="ae-0.outcome"' in form and '<option value="recovered_with_sequelae"' in form
