"""Property: for any visit form with any item left blank, nothing scores or recommends from a
value that was not entered: the page parser names every blank cell, the visit is not saved,
and the live panel shows no score and no recommendation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.web.conftest import Study, login, make_patient

from cletrial.instruments import CLASI_REGIONS, SLEDAI_WEIGHTS
from cletrial.web.forms import CLASI_ONCE_ITEMS, parse_visit_form, region_items

CLASI_CELLS = [
    *((f"clasi.{region}.{item}", choices) for region in CLASI_REGIONS
      for item, choices in region_items(region)),
    *((f"clasi.{name}", choices) for name, _label, choices in CLASI_ONCE_ITEMS),
]  # fmt: skip
SLEDAI_CELLS = [f"sledai.{name}" for name in SLEDAI_WEIGHTS]


@st.composite
def forms_with_blanks(draw: Any) -> tuple[dict[str, str], set[str]]:
    """A visit form with CLASI and SLEDAI-2K ticked as assessed and at least one blank item."""
    data = {"visit_date": "2024-02-12", "kind": "scheduled", "clasi_assessed": "on",
            "sledai_assessed": "on"}  # fmt: skip
    blank: set[str] = set()
    for name, choices in CLASI_CELLS:
        value = draw(st.sampled_from(["", *map(str, choices)]))
        data[name] = value
        if value == "":
            blank.add(name)
    for name in SLEDAI_CELLS:
        value = draw(st.sampled_from(["", "yes", "no"]))
        data[name] = value
        if value == "":
            blank.add(name)
    if not blank:
        name = draw(st.sampled_from([n for n, _ in CLASI_CELLS] + SLEDAI_CELLS))
        data[name] = ""
        blank.add(name)
    return data, blank


@given(forms_with_blanks())
@settings(max_examples=200)
def test_the_parser_names_every_blank_item(form: tuple[dict[str, str], set[str]]) -> None:
    data, blank = form
    _body, errors = parse_visit_form(data)
    assert blank <= set(errors)
    if blank & {n for n, _ in CLASI_CELLS}:
        assert "clasi_assessed" in errors
    if blank & set(SLEDAI_CELLS):
        assert "sledai_assessed" in errors


@given(forms_with_blanks())
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_form_with_a_blank_is_not_saved_and_neither_scores_nor_recommends(
    client: TestClient, study: Study, form: tuple[dict[str, str], set[str]]
) -> None:
    data, blank = form
    h = login(client, "coordinator")
    patient = client.get("/api/patients", headers=h).json()
    pid = patient[0]["id"] if patient else make_patient(client, h, study.site_a)
    preview = client.post(f"/patients/{pid}/visits/preview", data=data, headers=h)
    assert preview.status_code == 200
    if blank & {n for n, _ in CLASI_CELLS}:
        assert 'id="clasi-activity">—<' in preview.text and 'id="clasi-damage">—<' in preview.text
    if blank & set(SLEDAI_CELLS):
        assert 'id="sledai-score">—<' in preview.text
    assert "No recommendation: correct the form first" in preview.text
    saved = client.post(f"/patients/{pid}/visits/new", data=data, headers=h,
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 422
    assert client.get(f"/api/patients/{pid}/visits", headers=h).json() == []
