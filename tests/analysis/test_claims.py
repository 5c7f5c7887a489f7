"""The published-claims audit: statuses worked out by hand from the paper's own tables.

Each expectation below was checked against Tables 1-3 of Cortés-Hernández et al. 2012 by hand;
the comment says how.
"""

from __future__ import annotations

import json

import pytest

from cletrial.analysis import claims as claims_module
from cletrial.analysis.claim_checks import CHECKS
from cletrial.analysis.claims import ClaimsAudit, compute_claims_audit, load_claim_specs
from cletrial.errors import ImportFileError

HAND_WORKED = {
    # Table 1: DLE rows 1,3,8,9,11,12,13,14,15 = 9/15 = 60%.
    "results_subtype_dle": "consistent",
    # "T side effects" in 10 rows; + patient 1's thalidomide polyneuropathy = 11.
    "results_thalidomide_side_effects": "consistent",
    # Lack of efficacy: patients 1, 2, 3, 13; patient 3 withdrew, so 3 responders, not 4.
    "results_responders_failed_thalidomide": "inconsistent",
    # Mean CLASI-A 164/15 = 10.93 -> 11; SD 5.91 -> 5.9.
    "results_clasi_activity_entry": "consistent",
    # DLE + SCLE CR times 10,4,4,2,11,4,12,2 -> median 4 (mean 6.1), not 6.
    "results_time_to_cr_dle_scle": "inconsistent",
    # Lupus profundus: patients 2 (4 wk) and 5 (36 wk): range 4-36, median 20; printed 4-32, 13.
    "results_time_to_cr_lupus_profundus": "inconsistent",
    # Relapse "Yes" 9 of 12 CR = 75%.
    "results_relapse": "consistent",
    # Doses at relapse include twice weekly (patients 1, 11), below alternate days / thrice.
    "results_lowest_relapse_dose": "inconsistent",
    # Every relapse in Table 2 has a lenalidomide dose: none after withdrawal.
    "abstract_relapse_after_withdrawal": "inconsistent",
    # 7 patients with SLE in one section, 6 with systemic disease in another.
    "results_associated_sle_count": "inconsistent",
    # Welch/Student from 11 ± 5.9 (15) and 4.13 ± 3.66 (14) give P = 0.0009.
    "results_week2_p_value": "consistent",
    # No independent t-test gives P = 0.398; the pairs are not published.
    "results_clasi_damage_one_year_p": "not reproducible",
    # 2.39 is not a mean of 8-15 integer CLASI-D scores.
    "results_clasi_damage_baseline_mean": "inconsistent",
    # Table 3: all graded events grade 2 (CTCAE "moderate"), not minor/mild.
    "abstract_adverse_events_minor": "inconsistent",
    "results_patient_3_severe": "inconsistent",
    # ANC 1,190/mm3 = 1.19 x10^9/L: CTCAE v5 grade 2 (1.0-1.5).
    "results_neutropenia_grade": "consistent",
    # CR times range 2-36 weeks, not 2-12.
    "discussion_cr_interval": "inconsistent",
    # 3 of 9 relapsing patients is 33%, not 21%.
    "discussion_maintenance_share": "inconsistent",
    # Follow-up months of 14 patients: median 15, range 7-30 (patient 3 missing).
    "results_follow_up_median": "consistent",
    "abstract_follow_up_mean": "consistent",
    "results_age": "not reproducible",
    "results_sledai_entry": "not reproducible",
    "results_sustained_remission_scle": "consistent",
}


@pytest.mark.parametrize(("claim_id", "status"), sorted(HAND_WORKED.items()))
def test_hand_worked_statuses(audit: ClaimsAudit, claim_id: str, status: str) -> None:
    assert audit.result(claim_id).status == status, audit.result(claim_id).explanation


def test_every_claim_is_complete_and_one_line(audit: ClaimsAudit) -> None:
    assert len(audit.results) >= 60
    for result in audit.results:
        assert result.section and result.claim and result.reported_text
        assert result.recomputed_text and result.explanation
        assert "\n" not in result.explanation
        assert result.status in ("consistent", "inconsistent", "not reproducible")
    assert sum(audit.counts.values()) == len(audit.results)


def test_every_check_is_used_and_every_section_covered(audit: ClaimsAudit) -> None:
    assert {r.check for r in audit.results} == set(CHECKS)
    sections = {r.section.split(",")[0] for r in audit.results}
    assert {"Abstract", "Results", "Discussion"} <= sections


def test_explanations_show_the_evidence(audit: ClaimsAudit) -> None:
    assert "patients 1, 11" in audit.result("results_lowest_relapse_dose").explanation
    assert "mean (6.12)" in audit.result("results_time_to_cr_dle_scle").explanation
    assert "missing for patient 3" in audit.result("results_follow_up_median").explanation
    assert "truncated" in audit.result("results_clasi_damage_entry").explanation
    assert "r = 0.57" in audit.result("results_clasi_damage_one_year_p").explanation
    assert audit.result("results_cr").recomputed == {"n": 12, "denominator": 14, "percent": 85.7143}


def test_json_is_serialisable_and_cites_the_source(audit: ClaimsAudit) -> None:
    data = json.loads(json.dumps(audit.as_dict()))
    assert data["source"]["doi"] == "10.1186/ar4111"
    first = data["claims"][0]
    assert first["reported"] == {"n": 15.0} and first["reported_text"] == "Fifteen patients"


def _with_claims(monkeypatch: pytest.MonkeyPatch, edit: object) -> None:
    original = claims_module.load_reference_yaml

    def fake(name: str) -> object:
        document = original(name)
        if name == "claims.yaml":
            edit(document["claims"])  # type: ignore[operator]
        return document

    monkeypatch.setattr(claims_module, "load_reference_yaml", fake)


def test_a_reported_number_must_appear_in_its_text(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_claims(monkeypatch, lambda c: c[0]["reported"].update(n="16"))
    with pytest.raises(ImportFileError, match=r"abstract_enrolled\.reported\.n"):
        load_claim_specs()


def test_unknown_check_and_duplicate_ids_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_claims(monkeypatch, lambda c: c[0].update(check="guess"))
    with pytest.raises(ImportFileError, match="must be one of"):
        load_claim_specs()
    monkeypatch.undo()
    _with_claims(monkeypatch, lambda c: c.append(dict(c[0])))
    with pytest.raises(ImportFileError, match="must be unique"):
        load_claim_specs()


def test_a_changed_table_changes_the_verdict(monkeypatch: pytest.MonkeyPatch, study) -> None:  # type: ignore[no-untyped-def]
    # If Table 2 had given patient 5 a CR at 32 weeks, the lupus profundus range would match.
    import dataclasses

    table2 = tuple(
        dataclasses.replace(r, time_to_cr_weeks=32) if r.patient == 5 else r for r in study.table2
    )
    changed = compute_claims_audit(dataclasses.replace(study, table2=table2))
    result = changed.result("results_time_to_cr_lupus_profundus")
    assert "max printed 32" not in result.explanation and "median printed 13" in result.explanation
