"""The reference data: Tables 1-3 of Cortés-Hernández et al. 2012 as transcribed and parsed.

Expected values are read off the paper (seeds/001, Tables 1-3) by hand.
"""

from __future__ import annotations

import pytest

from cletrial.analysis import reference
from cletrial.analysis.reference import ReferenceStudy, load_reference_study
from cletrial.errors import ImportFileError


def test_table_sizes_and_patient_order(study: ReferenceStudy) -> None:
    assert [r.patient for r in study.table1] == list(range(1, 16))
    assert [r.patient for r in study.table2] == list(range(1, 16))
    assert [(e.patient, e.term) for e in study.table3] == [
        (3, "Vomiting"),
        (3, "Diarrhea"),
        (3, "Weight loss"),
        (3, "Fatigue"),
        (15, "Insomnia"),
        (15, "Neutropenia"),
    ]


def test_table1_cells(study: ReferenceStudy) -> None:
    by = {r.patient: r for r in study.table1}
    assert [by[p].subtype for p in (1, 2, 4, 6, 10)] == [
        "DLE",
        "lupus_profundus",
        "ACLE",
        "SCLE",
        "LET",
    ]
    assert by[9].dle_extent == "generalized" and by[1].dle_extent == "localized"
    assert by[7].inclusion_reasons == ("thalidomide_side_effects", "polyneuropathy", "bsa_over_18")
    assert (by[5].anti_dsdna_iu_ml, by[5].anti_dsdna_positive) == (144.0, True)
    assert (by[2].anti_dsdna_iu_ml, by[2].anti_dsdna_positive) == (None, False)
    assert [p for p, r in by.items() if r.anti_ro_positive] == [1, 6, 11, 12]
    assert (by[11].clasi_activity, by[11].clasi_damage) == (15, 9)
    assert by[4].previous_treatments == ("TCS", "OCS", "HCQ", "T", "AZA")  # trailing comma dropped
    assert by[6].previous_treatments == ("TCS", "OCS", "MMF")
    assert sum(r.clasi_activity for r in study.table1) == 164
    assert sum(r.clasi_damage for r in study.table1) == 35


def test_table2_missing_is_missing(study: ReferenceStudy) -> None:
    by = {r.patient: r for r in study.table2}
    assert by[3].outcome == "withdrawn" and by[3].follow_up_months is None
    assert by[5].outcome == "CR" and by[5].relapse is None  # printed "-": not reported
    assert by[6].relapse is False and by[6].dose_at_relapse is None
    assert by[9].max_dose_mg == 10 and by[9].time_to_cr_weeks is None
    assert by[1].regimen_at_relapse == "5_twice_weekly"
    assert by[2].regimen_at_relapse == "5_thrice_weekly"
    assert by[4].regimen_at_relapse == "5_alternate"


def test_table3_blank_grade(study: ReferenceStudy) -> None:
    assert [e.grade for e in study.table3] == [2, 2, 2, 2, 2, None]
    assert [e.causality for e in study.table3][-2:] == ["Probable", "Possible"]


def test_summary_statistics_keep_printed_decimals(study: ReferenceStudy) -> None:
    assert str(study.summary["clasi_damage_entry"].value("sd")) == "2.96"
    assert str(study.summary["clasi_activity_entry"].value("mean")) == "11"
    assert str(study.summary["clasi_activity_week2"].value("p_vs_entry")) == "0.0009"
    assert study.summary["neutropenia_patient_15"].value("absolute_neutrophil_count") == 1190
    assert study.citation["doi"] == "10.1186/ar4111"


def test_patients_records_join_tables_1_and_2(study: ReferenceStudy) -> None:
    joined = study.records("patients")
    assert len(joined) == 15
    assert joined[4]["subtype"] == "lupus_profundus" and joined[4]["time_to_cr_weeks"] == 36


def _with_file(monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    original = reference.read_reference_text
    monkeypatch.setattr(
        reference, "read_reference_text", lambda n: text if n == name else original(n)
    )


@pytest.mark.parametrize(
    ("name", "old", "new", "column"),
    [
        ("table1_baseline.csv", 'DLE (L),"V-neck', 'DLE (X),"V-neck', "diagnosis"),
        ("table1_baseline.csv", ",6,2,", ",71,2,", "clasi_activity"),
        ("table1_baseline.csv", "1/640,123", "640,123", "ana_titre"),
        ("table2_response.csv", "1,CR,10,", "1,CR,-,", "time_to_cr_weeks"),
        ("table2_response.csv", "6,CR,4,17,5,No,-", "6,CR,4,17,5,No,5 mg daily", "dose_at_relapse"),
        ("table2_response.csv", "9,PR,-,15,10", "9,PR,-,15,20", "max_dose_mg"),
        ("table3_adverse_events.csv", "Grade 2,Probable", "Grade 7,Probable", "nci_toxicity_grade"),
        ("table3_adverse_events.csv", "Probable", "Likely", "causality"),
    ],
)
def test_bad_cells_name_file_row_and_column(
    monkeypatch: pytest.MonkeyPatch, name: str, old: str, new: str, column: str
) -> None:
    text = reference.read_reference_text(name)
    assert old in text
    _with_file(monkeypatch, name, text.replace(old, new, 1))
    with pytest.raises(ImportFileError) as info:
        load_reference_study()
    assert info.value.file == name and info.value.column == column
    assert f"{name}, row " in str(info.value)


def test_patient_lists_must_match(monkeypatch: pytest.MonkeyPatch) -> None:
    text = reference.read_reference_text("table2_response.csv")
    _with_file(monkeypatch, "table2_response.csv", text.replace("\n15,CR", "\n16,CR"))
    with pytest.raises(ImportFileError, match="same patients"):
        load_reference_study()
