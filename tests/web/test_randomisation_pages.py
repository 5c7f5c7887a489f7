"""The randomisation page of a patient: an investigator randomises from the form and sees the
treatment code, never the arm; a refusal names the field and saves nothing; other roles see
the code and no form; the week-16 trial endpoints (CLASI-50/70) show, missing as missing."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import BASELINE, Study, make_patient, make_visit

from cletrial.instruments.complete_forms import fill_absent_clasi_items
from cletrial.randomisation import AllocationList, generate_allocation_list
from cletrial.store import UnitOfWork
from cletrial.store.randomisation import import_allocation_list

H = dict[str, dict[str, str]]
#: Arm names that cannot appear on a page by accident.
ARMS = ("armqz7xk", "armk4p9w")


@pytest.fixture
def plan(study: Study) -> AllocationList:
    allocation = generate_allocation_list(
        {"subtype": ["DLE", "SCLE"]}, dict.fromkeys(ARMS, 1), block_sizes=[2, 4],
        per_stratum=4, seed=7, environment="production",
    )  # fmt: skip
    with UnitOfWork(study.engine, user="statistician") as uow:
        import_allocation_list(uow, study.study_id, allocation, environment="production")
    return allocation


def _text(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


def test_an_investigator_randomises_from_the_form_and_sees_the_code_only(
    client: TestClient, headers: H, study: Study, plan: AllocationList
) -> None:
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    page = client.get(f"/patients/{pid}/trial", headers=h)
    assert page.status_code == 200 and 'name="stratum.subtype"' in page.text
    refused = {
        "": 'href="#f-stratum-subtype">Stratum subtype</a>: strata.subtype = null: is required',
        "ACLE": 'strata.subtype = "ACLE": must be one of DLE, SCLE',
    }
    for value, message in refused.items():
        answer = client.post(f"/patients/{pid}/randomise", data={"stratum.subtype": value},
                             headers=h)  # fmt: skip
        assert answer.status_code == 422 and message in _text(answer), _text(answer)[:2000]
    nul = client.post(f"/patients/{pid}/randomise", headers=h,
                      data={"stratum.subtype": "DLE", "reason": "ok\x00"})  # fmt: skip
    assert nul.status_code == 422 and 'href="#f-reason"' in nul.text
    assert client.get(f"/api/patients/{pid}/randomisation", headers=h).status_code == 404
    form = {"stratum.subtype": "SCLE", "reason": "eligible, consented"}
    done = client.post(f"/patients/{pid}/randomise", data=form, headers=h, follow_redirects=False)
    assert done.status_code == 303, _text(done)[:2000]
    shown = client.get(done.headers["location"], headers=h)
    first = next(s for s in plan.slots if s.stratum == "subtype=SCLE")
    assert first.code in shown.text and "Randomised." in shown.text
    assert 'name="stratum.subtype"' not in shown.text  # randomised once only
    for role in ("investigator", "coordinator", "monitor", "data_manager"):
        seen = client.get(f"/patients/{pid}/trial", headers=headers[role])
        assert seen.status_code == 200 and first.code in seen.text
        assert not any(arm in seen.text for arm in ARMS), role


def test_other_roles_get_no_form_and_cannot_post(
    client: TestClient, headers: H, study: Study, plan: AllocationList
) -> None:
    pid = make_patient(client, headers["investigator"], study.site_a)
    page = client.get(f"/patients/{pid}/trial", headers=headers["coordinator"])
    assert page.status_code == 200 and "stratum.subtype" not in page.text
    assert "An investigator of the patient's site randomises" in _text(page)
    posted = client.post(f"/patients/{pid}/randomise", data={"stratum.subtype": "DLE"},
                         headers=headers["coordinator"])  # fmt: skip
    assert posted.status_code == 403
    assert client.get(f"/patients/{pid}/trial", headers=headers["other"]).status_code == 403


def test_a_study_without_a_list_says_so(client: TestClient, headers: H, study: Study) -> None:
    pid = make_patient(client, headers["investigator"], study.site_a)
    page = client.get(f"/patients/{pid}/trial", headers=headers["investigator"])
    assert page.status_code == 200 and "no production allocation list" in _text(page)


def test_the_week_16_endpoints_show_a_responder_and_missing_as_missing(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    make_visit(client, h, pid)  # baseline CLASI-A 6 (2 + 1 + 3), first dose 2024-01-15
    page = _text(client.get(f"/patients/{pid}/trial", headers=h))
    assert "missing: no visit with CLASI in the window" in page
    week16 = {"visit_date": "2024-05-06", "kind": "scheduled", "sledai": BASELINE["sledai"],
              "clasi": fill_absent_clasi_items({"regions": {"arms": {"erythema": 2}}})}  # fmt: skip
    make_visit(client, h, pid, week16)  # day 112, CLASI-A 2: -67%
    page = _text(client.get(f"/patients/{pid}/trial", headers=h))
    rows = {row: page.split(f'id="{row}"')[1].split("</tr>")[0] for row in ("clasi50", "clasi70")}
    assert "responder" in rows["clasi50"] and "non-responder" not in rows["clasi50"]
    assert "non-responder" in rows["clasi70"]
    assert "-67%" in page and "(day 112)" in page
