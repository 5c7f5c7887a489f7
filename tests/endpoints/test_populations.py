"""Patients who cannot be analysed stay in the cohort, flagged out of their populations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.endpoints.helpers import derive_both, history, iso
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.endpoints import derive_adsl, derive_endpoints, table_from_histories
from cletrial.endpoints.adam import ADSL_VARIABLES
from cletrial.endpoints.populations import assign_population

runner = CliRunner()


def never_dosed(patient_id: str = "SCR-1", *, baseline: bool = False) -> dict[str, object]:
    """A screened patient never dosed, as the web export writes it (no first_dose_date)."""
    h: dict[str, object] = {"patient_id": patient_id, "protocol": "lenalidomide-cle-2012"}
    if baseline:
        h["baseline"] = {"date": iso(0), "clasi": {"activity": 9}}
    return h


def mixed_cohort() -> list[dict[str, object]]:
    return [
        history(patient_id="CR", visits=[(28, 0)]),
        never_dosed("SCR-1"),
        never_dosed("SCR-2", baseline=True),
        history(patient_id="WD-CONSENT", visits=[(28, 0)], events=[(7, "consent_withdrawn")]),
        history(patient_id="WD-LOST", visits=[(56, 3)], events=[(20, "lost_to_follow_up")]),
        history(patient_id="WD-DEATH", events=[(3, "death")]),
        history(patient_id="NO-BASE", base=None, visits=[(28, 0)]),
        history(patient_id="LATE-WD", visits=[(28, 6)], events=[(40, "consent_withdrawn")]),
    ]


EXPECTED = {  # patient: (SAFFL, ITTFL, EFFFL, reason)
    "CR": ("Y", "Y", "Y", None),
    "SCR-1": ("N", "N", "N", "not_dosed"),
    "SCR-2": ("N", "N", "N", "not_dosed"),
    "WD-CONSENT": ("Y", "Y", "N", "withdrawn_before_first_assessment: consent_withdrawn"),
    "WD-LOST": ("Y", "Y", "N", "withdrawn_before_first_assessment: lost_to_follow_up"),
    "WD-DEATH": ("Y", "Y", "N", "withdrawn_before_first_assessment: death"),
    "NO-BASE": ("Y", "Y", "N", "no_baseline_clasi_a"),
    "LATE-WD": ("Y", "Y", "Y", None),  # withdrawn after an efficacy assessment: evaluable
}


def test_mixed_cohort_keeps_every_patient_with_flags_and_reasons() -> None:
    table = table_from_histories(mixed_cohort())
    endpoints = derive_endpoints(table)
    adsl = derive_adsl(endpoints, table)
    got = {row.USUBJID: (row.SAFFL, row.ITTFL, row.EFFFL, row.POPEXCL) for row in adsl.itertuples()}
    assert got == EXPECTED
    responses = dict(zip(adsl["USUBJID"], adsl["BESTRSP"], strict=True))
    assert responses["SCR-1"] == "NE" and responses["WD-DEATH"] == "WITHDRAWN"


@pytest.mark.parametrize("h", mixed_cohort(), ids=lambda h: str(h["patient_id"]))
def test_both_paths_agree_on_populations(h: dict[str, object]) -> None:
    row = derive_both(h)
    assert (row["population_note"] or None) == EXPECTED[str(h["patient_id"])][3]


def test_population_labels_say_itt_is_all_treated_patients() -> None:
    labels = {name: label for name, _column, label, _how in ADSL_VARIABLES}
    assert "all treated patients" in labels["ITTFL"]
    assert "all treated patients" in labels["SAFFL"]


def test_assign_population_is_the_one_rule() -> None:
    assert assign_population(treated=True, baseline_activity=True, withdrawal=None).efficacy
    assert not assign_population(treated=False, baseline_activity=True, withdrawal=None).itt


def test_web_export_with_a_patient_never_dosed_derives(tmp_path: Path) -> None:
    """Issue "safe data capture", point 10: a screened, never dosed patient aborted derive."""
    path = tmp_path / "histories.jsonl"
    lines = [history(patient_id=f"P{i:02d}", visits=[(28, 0)]) for i in range(14)]
    lines.append(never_dosed("P15"))
    path.write_text("".join(json.dumps(h) + "\n" for h in lines))
    result = runner.invoke(app, ["derive", str(path), "--json", "--table", "adsl"])
    assert result.exit_code == 0, result.output
    rows = {r["USUBJID"]: r for r in json.loads(result.stdout)}
    assert len(rows) == 15
    assert (rows["P15"]["SAFFL"], rows["P15"]["POPEXCL"]) == ("N", "not_dosed")
    assert rows["P15"]["TRTSDT"] is None
