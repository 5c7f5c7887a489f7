"""The fast vectorised generator used by the derivation benchmark."""

from __future__ import annotations

import pandas as pd
from tests.endpoints.helpers import _same

from cletrial.endpoints import (
    compute_patient_endpoints,
    derive_endpoints,
    iter_courses,
    subject_columns,
    validate_visit_table,
)
from cletrial.synthetic.fast import generate_visit_table


def test_table_is_valid_labelled_and_seeded() -> None:
    table = validate_visit_table(generate_visit_table(300, seed=4))
    assert table.patients["synthetic"].all()
    assert table.patients["patient_id"].str.startswith("SYN-").all()
    again = generate_visit_table(300, seed=4)
    pd.testing.assert_frame_equal(table.visits, again.visits)
    assert 18 <= len(table.visits) / 300 <= 32  # ~25 visits a patient
    assert table.visits["clasi_a"].isna().any()  # missing visits are present, as NaN


def test_exercises_every_endpoint_and_both_paths_agree() -> None:
    table = generate_visit_table(400, seed=9)
    endpoints = derive_endpoints(table)
    s = endpoints.subjects
    assert set(s["best_response"]) >= {"CR", "PR", "WITHDRAWN"}
    assert set(endpoints.relapses["action"]) >= {"restart", "maintenance"}
    assert (
        s["sustained_remission"].fillna(False).any() and s["flare_paper_mild"].fillna(False).any()
    )
    rows = endpoints.records()
    for course, row in zip(iter_courses(table), rows, strict=True):
        ref = compute_patient_endpoints(course).subject
        for name in subject_columns():
            assert _same(ref[name], row[name]), (course.patient_id, name, ref[name], row[name])
