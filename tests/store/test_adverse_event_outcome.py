"""The outcome of an adverse event (CDISC AEOUT terms) and the rules tying it to the grade and
the end date, on add, update and import, on both engines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from cletrial.errors import InputError
from cletrial.store import UnitOfWork
from cletrial.store.import_export import import_path
from cletrial.store.vocab import AE_OUTCOME_CDISC, AE_OUTCOMES

from .conftest import Seed

D = dt.date(2009, 4, 1)
END = dt.date(2009, 4, 20)


def _add(seed: Seed, **fields: object) -> int:
    values = {"term": "Rash", "start_date": D, "grade": 2, "causality": "possible",
              "serious": False, **fields}  # fmt: skip
    with UnitOfWork(seed.engine, user="ana") as uow:
        return uow.adverse_events.add(patient_id=seed.patient_id, **values).id  # type: ignore[arg-type]


def test_the_outcomes_are_the_cdisc_terms() -> None:
    assert AE_OUTCOMES == ("recovered", "recovered_with_sequelae", "recovering",
                           "not_recovered", "fatal", "unknown")  # fmt: skip
    assert AE_OUTCOME_CDISC["recovered_with_sequelae"] == "RECOVERED/RESOLVED WITH SEQUELAE"
    assert AE_OUTCOME_CDISC["not_recovered"] == "NOT RECOVERED/NOT RESOLVED"


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        ({}, None),  # not recorded: missing, never assumed
        ({"outcome": "recovered", "end_date": END}, "recovered"),
        ({"outcome": "not_recovered"}, "not_recovered"),
        ({"outcome": "unknown"}, "unknown"),
        ({"outcome": "fatal", "grade": 5, "serious": True, "serious_criterion": "death"}, "fatal"),
    ],
)  # fmt: skip
def test_an_outcome_is_stored_as_given(seed: Seed, fields: dict[str, object], stored: str) -> None:
    ae_id = _add(seed, **fields)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.adverse_events.get(ae_id).outcome == stored


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"outcome": "cured"}, 'adverse_events.outcome = "cured": must be one of'),
        ({"outcome": "fatal", "grade": 4}, "fatal is the outcome of a CTCAE grade 5 event only"),
        ({"outcome": "recovered", "grade": 5}, "must be fatal for a CTCAE grade 5 event"),
        ({"outcome": "recovered"}, "recovered needs the end date"),
        ({"outcome": "recovering", "end_date": END}, "still going on, so it has no end date"),
    ],
)  # fmt: skip
def test_an_outcome_against_the_rest_is_refused_naming_it(
    seed: Seed, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        _add(seed, **fields)
    with seed.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM adverse_events")).scalar_one() == 0


def test_an_update_keeps_the_outcome_rules(seed: Seed) -> None:
    ae_id = _add(seed, outcome="recovered", end_date=END)
    with UnitOfWork(seed.engine, user="ana") as uow, pytest.raises(InputError, match="end date"):
        uow.adverse_events.update(ae_id, expected_version=1, reason="typo", end_date=None)
    with UnitOfWork(seed.engine, user="ana") as uow:  # made whole, the change is accepted
        uow.adverse_events.update(ae_id, expected_version=1, reason="still going on",
                                  end_date=None, outcome="recovering")  # fmt: skip
    with UnitOfWork(seed.engine, read_only=True) as uow:
        history = uow.history("adverse_events", ae_id)
    changed = {(row.field, row.old, row.new) for row in history if row.action == "UPDATE"}
    assert ("outcome", "recovered", "recovering") in changed


def test_an_import_names_the_file_row_and_column_of_a_bad_outcome(
    seed: Seed, tmp_path: Path
) -> None:
    path = tmp_path / "adverse_events.csv"
    path.write_text("study,patient,term,start,end,grade,causality,serious,outcome\n"
                    "LEN,P01,Rash,2009-04-01,,2,possible,false,not_recovered\n"
                    "LEN,P01,Fever,2009-04-02,,2,possible,false,fatal\n")  # fmt: skip
    with pytest.raises(InputError, match=r"adverse_events.csv, row 3.*fatal is the outcome"):
        import_path(seed.engine, path, user="dm")
    with seed.engine.connect() as conn:  # atomic: the good row is not saved either
        assert conn.execute(text("SELECT count(*) FROM adverse_events")).scalar_one() == 0
    path.write_text(path.read_text().replace(",fatal\n", ",unknown\n"))
    import_path(seed.engine, path, user="dm")
    with UnitOfWork(seed.engine, read_only=True) as uow:
        outcomes = [ae.outcome for ae in uow.adverse_events.for_patient(seed.patient_id)]
    assert outcomes == ["not_recovered", "unknown"]
