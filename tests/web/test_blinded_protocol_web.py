"""A study running a masked randomised protocol (``lenalidomide-vs-placebo-cle``): the
recommendation names a dose level of the blinded study drug, never the arm, and the
allocation list must have the protocol's arms."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import BASELINE, Study, login, make_patient

from cletrial.errors import InputError
from cletrial.instruments import fill_absent_clasi_items, fill_absent_sledai_items
from cletrial.randomisation import generate_allocation_list
from cletrial.store import UnitOfWork
from cletrial.store.randomisation import import_allocation_list
from cletrial.web.app import create_app
from cletrial.web.settings import WebSettings

H = dict[str, dict[str, str]]
PROTOCOL = "lenalidomide-vs-placebo-cle"
PRODUCT = "study drug (lenalidomide or matching placebo)"


@pytest.fixture
def app(study: Study):  # type: ignore[no-untyped-def]
    with UnitOfWork(study.engine, user="setup") as uow:
        row = uow.get("studies", study.study_id)
        uow.update("studies", study.study_id, {"protocol_id": PROTOCOL},
                   expected_version=row["version"], reason="randomised template")  # fmt: skip
    return create_app(WebSettings(database_url=study.url, protocol=PROTOCOL), engine=study.engine)


def _list(arms: tuple[str, ...]):  # type: ignore[no-untyped-def]
    return generate_allocation_list({"subtype": ["DLE", "SCLE"]}, dict.fromkeys(arms, 1),
                                    block_sizes=[2], per_stratum=2, seed=3,
                                    environment="production")  # fmt: skip


def test_a_list_without_the_protocols_arms_is_refused(study: Study, app: object) -> None:
    with pytest.raises(InputError) as raised, UnitOfWork(study.engine, user="sara") as uow:
        import_allocation_list(uow, study.study_id, _list(("active", "placebo")),
                               environment="production")  # fmt: skip
    assert str(raised.value).startswith('arms = ["active", "placebo"]: must be the arms of')
    assert "LEN, PBO" in str(raised.value)
    with UnitOfWork(study.engine, read_only=True) as uow:
        assert uow.find("allocation_lists", study_id=study.study_id) is None  # nothing written
    with UnitOfWork(study.engine, user="sara") as uow:  # the protocol's own arms are accepted
        listed = import_allocation_list(uow, study.study_id, _list(("LEN", "PBO")),
                                        environment="production")  # fmt: skip
    assert listed.slot_count == 4


def test_the_recommendation_names_the_blinded_study_drug(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    assert client.post(f"/api/patients/{pid}/visits", json=BASELINE, headers=h).status_code == 201
    api = client.get(f"/api/patients/{pid}/recommendation", headers=h)
    assert api.status_code == 200, api.text
    reco = api.json()
    assert reco["protocol_id"] == PROTOCOL and reco["blinding"]["product"] == PRODUCT
    assert reco["blinding"]["masked"] == "double"
    page = html.unescape(client.get(f"/patients/{pid}", headers=h).text)
    assert f"5 mg every day ({PRODUCT})" in page
    assert "treatment code, not the arm" in page


WITHDRAWAL = "lenalidomide-withdrawal-cle"


def test_a_randomised_withdrawal_randomises_complete_responders_only(study: Study) -> None:
    with UnitOfWork(study.engine, user="setup") as uow:
        row = uow.get("studies", study.study_id)
        uow.update("studies", study.study_id, {"protocol_id": WITHDRAWAL},
                   expected_version=row["version"], reason="withdrawal template")  # fmt: skip
        import_allocation_list(uow, study.study_id, _list(("CONT", "TAPER")),
                               environment="production")  # fmt: skip
    web = create_app(WebSettings(database_url=study.url, protocol=WITHDRAWAL), engine=study.engine)
    with TestClient(web) as client:
        h = login(client, "investigator")
        pid = make_patient(client, h, study.site_a)
        assert (
            client.post(f"/api/patients/{pid}/visits", json=BASELINE, headers=h).status_code == 201
        )
        body = {"strata": {"subtype": "DLE"}, "reason": "complete response at week 4"}
        early = client.post(f"/api/patients/{pid}/randomise", json=body, headers=h)
        assert early.status_code == 422, early.text
        assert "randomises patients in complete response" in early.text
        assert early.json()["field"] == "course.phase" and "induction" in early.text
        clear = {"visit_date": "2024-02-12", "kind": "scheduled",
                 "clasi": fill_absent_clasi_items({"regions": {}}),
                 "sledai": fill_absent_sledai_items({}),
                 "labs": [{"test": "neutrophils", "value": 2100, "unit": "/mm3"}]}  # fmt: skip
        visit = client.post(f"/api/patients/{pid}/visits", json=clear, headers=h)
        assert visit.status_code == 201, visit.text
        done = client.post(f"/api/patients/{pid}/randomise", json=body, headers=h)
        assert done.status_code == 201, done.text
        assert "arm" not in done.json()
