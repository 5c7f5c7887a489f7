"""De-identification: codes replaced consistently, dates shifted per patient, intervals kept."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cletrial.standards.deidentify import MAX_SHIFT_DAYS, deidentify_datasets
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable

KEY = b"0123456789abcdef0123456789abcdef"


def _spec(name: str, *variables: Variable, standard: str = "SDTMIG 3.4") -> DatasetSpec:
    return DatasetSpec(name, name, "EVENTS", "One record", (), variables, standard)


def T(name: str) -> Variable:
    return Variable(name, name, "text")


DM = Dataset(
    _spec("DM", T("STUDYID"), T("SITEID"), T("SUBJID"), T("USUBJID"),
          Variable("RFSTDTC", "start", "iso8601"), Variable("AGE", "Age", "integer")),
    pd.DataFrame({"STUDYID": ["S", "S"], "SITEID": ["H1", "H2"], "SUBJID": ["P-1", "P2"],
                  "USUBJID": ["S-H1-P-1", "S-H2-P2"], "RFSTDTC": ["2009-03-02", "2009-05-04"],
                  "AGE": [89.0, 90.0]}),
)  # fmt: skip
DV = Dataset(
    _spec("DV", T("STUDYID"), T("USUBJID"), Variable("DVSTDTC", "start", "iso8601"),
          Variable("DVTERM", "what", "text", identifying=True), Variable("DVDY", "day", "integer")),
    pd.DataFrame({"STUDYID": ["S"] * 3, "USUBJID": ["S-H1-P-1", "S-H1-P-1", "S-H2-P2"],
                  "DVSTDTC": ["2009-03-10", "2009-04", "2009-05-04"],
                  "DVTERM": ["Mrs Smith's visit moved", "x", "y"], "DVDY": [9.0, None, 1.0]}),
)  # fmt: skip
ADSL = Dataset(
    _spec("ADSL", T("STUDYID"), T("USUBJID"), Variable("TRTSDT", "first dose", "sas_date"),
          standard="ADaMIG 1.3"),
    pd.DataFrame({"STUDYID": ["S", "S"], "USUBJID": ["S-H1-P-1", "S-H2-P2"],
                  "TRTSDT": [dt.date(2009, 3, 2), dt.date(2009, 5, 4)]}),
)  # fmt: skip
TS = Dataset(
    DatasetSpec("TS", "Trial Summary", "TRIAL DESIGN", "One record", (),
                (T("STUDYID"), T("TSVAL")), "SDTMIG 3.4"),
    pd.DataFrame({"STUDYID": ["S"], "TSVAL": ["2009-01-01"]}),
)  # fmt: skip


def _run(key: bytes = KEY) -> dict[str, Dataset]:
    return deidentify_datasets({"DM": DM, "DV": DV, "ADSL": ADSL, "TS": TS}, key=key)


def _days(a: str, b: str) -> int:
    return (dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days


def test_codes_are_replaced_the_same_way_in_every_dataset() -> None:
    out = _run()
    dm = out["DM"].frame
    assert not set(dm["SUBJID"]) & {"P-1", "P2"}
    assert list(dm["USUBJID"]) == [f"S-H1-{dm['SUBJID'][0]}", f"S-H2-{dm['SUBJID'][1]}"]
    assert set(out["DV"].frame["USUBJID"]) == set(dm["USUBJID"])
    assert list(out["ADSL"].frame["USUBJID"]) == list(dm["USUBJID"])
    for ds in out.values():
        ds.check()


def test_dates_move_by_one_offset_per_patient_and_intervals_are_kept() -> None:
    out = _run()
    dm, dv, adsl = out["DM"].frame, out["DV"].frame, out["ADSL"].frame
    shift = _days(dm["RFSTDTC"][0], "2009-03-02")
    assert shift != 0 and abs(shift) <= MAX_SHIFT_DAYS
    assert _days(dv["DVSTDTC"][0], dm["RFSTDTC"][0]) == 8  # as before: 10 March - 2 March
    assert (adsl["TRTSDT"][0] - dt.date(2009, 3, 2)).days == shift
    assert list(dv["DVDY"][[0, 2]]) == [9.0, 1.0]  # study days unchanged
    assert dv["DVSTDTC"][1] is None  # a partial date cannot be shifted exactly: dropped


def test_ages_over_89_are_capped_and_free_text_is_blanked() -> None:
    out = _run()
    assert list(out["DM"].frame["AGE"]) == [89.0, 90.0]
    capped = deidentify_datasets(
        {"DM": Dataset(DM.spec, DM.frame.assign(AGE=[95.0, None]))}, key=KEY
    )["DM"].frame
    assert capped["AGE"][0] == 90.0 and pd.isna(capped["AGE"][1])
    assert out["DV"].frame["DVTERM"].isna().all()


def test_same_key_same_result_other_key_other_codes_inputs_untouched() -> None:
    before = DM.frame.copy()
    a, b, c = _run(), _run(), _run(b"another key of 32 bytes........!")
    pd.testing.assert_frame_equal(a["DM"].frame, b["DM"].frame)
    assert list(a["DM"].frame["SUBJID"]) != list(c["DM"].frame["SUBJID"])
    pd.testing.assert_frame_equal(DM.frame, before)
    assert a["TS"] is TS


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        deidentify_datasets({"DM": DM}, key=b"short")


def test_without_a_key_each_run_differs() -> None:
    first = deidentify_datasets({"DM": DM})["DM"].frame["SUBJID"].tolist()
    second = deidentify_datasets({"DM": DM})["DM"].frame["SUBJID"].tolist()
    assert first != second
