"""SDTM QS: CLASI items and SLEDAI-2K descriptors, totals equal to the instruments' scores."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cletrial.errors import FormError
from cletrial.instruments import compute_clasi, compute_sledai, fill_absent_clasi_items
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.scores import CLASI_TESTS, SLEDAI_TESTS, build_qs

SUBJECT = SubjectRef("CLE", "H01", "P01", dt.date(2009, 2, 2))

# Hand-worked: activity = 2+1 (nose) + 3+2 (arms) + 1 (mucous) + 2 (non-scarring alopecia) = 11;
# damage = (1 nose + 1 arms dyspigmentation) * 2 (persistent) + 1 (nose scarring) + 3 = 8.
CLASI_FORM = {
    "regions": {
        "nose": {"erythema": 2, "scale": 1, "dyspigmentation": 1, "scarring": 1},
        "arms": {"erythema": 3, "scale": 2, "dyspigmentation": 1},
    },
    "mucous_membrane_lesions": 1,
    "nonscarring_alopecia": 2,
    "scarring_alopecia": 3,
    "dyspigmentation_persistent": True,
}
# Hand-worked: arthritis 4 + rash 2 + low complement 2 + thrombocytopenia (drug-induced) 0 = 8.
SLEDAI_FORM = {"arthritis": True, "rash": True, "low_complement": True,
               "thrombocytopenia": True, "thrombocytopenia_drug_induced": True}  # fmt: skip


def _history() -> dict[str, object]:
    return {
        "baseline": {"date": "2009-02-02", "clasi": fill_absent_clasi_items(CLASI_FORM),
                     "sledai": SLEDAI_FORM},
        "assessments": [
            {"date": "2009-03-02", "clasi": {"activity": 4, "damage": 1}, "sledai": {"score": 2}},
            {"date": "2009-03-30"},
            {"date": "2009-04-27", "sledai": {"rash": True}},
        ],
    }  # fmt: skip


def _value(frame: pd.DataFrame, date: str, code: str) -> pd.Series:
    row = frame[(date == frame.QSDTC) & (code == frame.QSTESTCD)]
    assert len(row) == 1, (date, code)
    return row.iloc[0]


def test_hand_worked_totals_equal_the_instruments() -> None:
    qs, _ = build_qs([(SUBJECT, _history())])
    f = qs.frame
    assert compute_clasi(CLASI_FORM).activity == 11 and compute_clasi(CLASI_FORM).damage == 8
    assert _value(f, "2009-02-02", "CLASIA").QSSTRESN == 11.0
    assert _value(f, "2009-02-02", "CLASID").QSSTRESN == 8.0
    assert compute_sledai(SLEDAI_FORM) == 8
    assert _value(f, "2009-02-02", "SLEDTOT").QSSTRESN == 8.0
    assert _value(f, "2009-02-02", "CLASIA").QSDRVFL == "Y"
    arms = _value(f, "2009-02-02", "CLARER")
    assert (arms.QSORRES, arms.QSSTRESN, arms.QSSCAT, arms.QSDRVFL) == ("3", 3.0, "ARMS", None)
    thr = _value(f, "2009-02-02", "SLED23")
    assert (thr.QSORRES, thr.QSSTRESC, thr.QSSTRESN) == ("PRESENT", "0", 0.0)
    assert _value(f, "2009-02-02", "SLED23DI").QSORRES == "Y"
    arthritis = _value(f, "2009-02-02", "SLED09")
    assert (arthritis.QSORRES, arthritis.QSSTRESN) == ("PRESENT", 4.0)
    assert _value(f, "2009-02-02", "SLED01").QSORRES == "ABSENT"
    base = f[f.QSDTC == "2009-02-02"]
    assert base.VISIT.unique().tolist() == ["BASELINE"] and base.QSDY.unique().tolist() == [1.0]


def test_item_count_per_form_and_missing_stays_missing() -> None:
    qs, prov = build_qs([(SUBJECT, _history())])
    f = qs.frame
    counts = f.groupby(["QSDTC", "QSCAT"]).size().to_dict()
    # 51 region items + 5 form items + 2 totals; 24 descriptors + 2 drug flags + 1 total.
    assert counts[("2009-02-02", "CLASI")] == 58 == len(CLASI_TESTS)
    assert counts[("2009-02-02", "SLEDAI-2K")] == 27 == len(SLEDAI_TESTS)
    # published scores only: only the totals
    assert f[f.QSDTC == "2009-03-02"].QSTESTCD.tolist() == ["CLASIA", "CLASID", "SLEDTOT"]
    assert f[f.QSDTC == "2009-03-02"].QSDY.unique().tolist() == [29.0]
    # a visit without forms has no record; a SLEDAI without CLASI has no CLASI record
    assert "2009-03-30" not in set(f.QSDTC)
    assert set(f[f.QSDTC == "2009-04-27"].QSCAT) == {"SLEDAI-2K"}
    assert f.QSSEQ.tolist() == [float(i) for i in range(1, len(f) + 1)]
    assert [p.seq for p in prov] == f.QSSEQ.astype(int).tolist()
    assert {(p.array, p.index) for p in prov} == {("baseline", None), ("assessments", 0),
                                                  ("assessments", 2)}  # fmt: skip


def test_testcd_unique_per_category_and_within_limits() -> None:
    qs, _ = build_qs([(SUBJECT, _history())])
    for codes in ([c for c, _t, _s in CLASI_TESTS.values()],
                  [c for c, _t in SLEDAI_TESTS.values()]):  # fmt: skip
        assert len(codes) == len(set(codes))
        assert all(len(c) <= 8 for c in codes)
    tests = [t for _c, t, _s in CLASI_TESTS.values()] + [t for _c, t in SLEDAI_TESTS.values()]
    assert all(len(t) <= 40 for t in tests)
    per_visit = qs.frame.groupby(["USUBJID", "QSDTC", "QSCAT"]).QSTESTCD
    assert (per_visit.nunique() == per_visit.size()).all()
    assert qs.check() is qs


def test_invalid_form_is_refused_naming_the_item() -> None:
    history = {"baseline": {"date": "2009-02-02", "clasi": {"regions": {"arms": {"scale": 3}}}}}
    with pytest.raises(FormError, match=r"regions\.arms\.scale = 3"):
        build_qs([(SUBJECT, history)])


def test_no_subjects_gives_an_empty_checked_dataset() -> None:
    qs, prov = build_qs([])
    assert qs.frame.empty and prov == [] and list(qs.frame.columns) == list(qs.spec.names)
