"""Property tests: any sequence of changes keeps the audit trail consistent; any text survives
a CSV and JSON export/import round trip."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from cletrial.store import (
    UnitOfWork,
    create_engine_for,
    upgrade,
    verify_audit_chain,
    verify_records_against_audit,
)
from cletrial.store.import_export import export_rows, export_to, import_path, write_json

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda s: s.strip() == s and s.strip())
multiline = st.lists(text, min_size=1, max_size=3).map("\n".join)
#: Capped in the past: the store refuses dates after today (the study's time zone).
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2026, 1, 1))


def _engine() -> Engine:
    engine = create_engine_for("sqlite://")
    upgrade(engine)
    return engine


def _seed(engine: Engine) -> int:
    with UnitOfWork(engine, user="ana") as uow:
        study = uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
        site = uow.sites.create(study_id=study.id, code="A", name="Site A")
        return uow.patients.create(study_id=study.id, site_id=site.id, study_code="P1").id


operation = st.one_of(
    st.tuples(st.just("add"), dates, st.integers(1, 5), st.booleans()),
    st.tuples(st.just("update"), st.integers(0, 10), st.integers(1, 5), text),
    st.tuples(st.just("delete"), st.integers(0, 10)),
)


@settings(max_examples=25)
@given(st.lists(operation, max_size=12))
def test_any_sequence_of_changes_keeps_the_trail_consistent(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    engine = _engine()
    patient = _seed(engine)
    for op in ops:
        with UnitOfWork(engine, user="u", reason="property test") as uow:
            events = uow.adverse_events.for_patient(patient)
            if op[0] == "add" and not any(e.start_date == op[1] for e in events):
                uow.adverse_events.add(
                    patient_id=patient,
                    term="Rash",
                    start_date=op[1],
                    grade=op[2],
                    causality="possible",
                    serious=op[3],
                )
            elif op[0] == "update" and events:
                event = events[op[1] % len(events)]
                uow.adverse_events.update(event.id, expected_version=event.version, grade=op[2],
                                          note=op[3])  # fmt: skip
            elif op[0] == "delete" and events:
                event = events[op[1] % len(events)]
                uow.adverse_events.delete(event.id, expected_version=event.version)
    with engine.connect() as conn:
        assert verify_audit_chain(conn).ok
        assert verify_records_against_audit(conn) == []
    engine.dispose()


@settings(max_examples=20)
@given(
    subtype=text,
    note=text,
    term=text,
    meds=st.lists(text.filter(lambda s: ";" not in s), min_size=1, max_size=3),
)
def test_any_text_survives_csv_and_json_round_trips(
    subtype: str, note: str, term: str, meds: list[str]
) -> None:
    source = _engine()
    patient = _seed(source)
    with UnitOfWork(source, user="ana", reason="r") as uow:
        uow.patients.update(patient, expected_version=1, cle_subtype=subtype[:60])
        uow.visits.create(patient_id=patient, visit_date=dt.date(2009, 2, 2), notes=note,
                          medications=meds)  # fmt: skip
        uow.adverse_events.add(
            patient_id=patient,
            term=term,
            start_date=dt.date(2009, 3, 1),
            grade=1,
            causality="unlikely",
            serious=False,
            note=note,
        )
    with source.connect() as conn:
        expected = export_rows(conn)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for fmt, out in (("csv", folder / "csv"), ("json", folder / "all.json")):
            target = _engine()
            export_to(source, out, fmt=fmt)
            import_path(target, out, user="dm")
            with target.connect() as conn:
                assert export_rows(conn) == expected, fmt
            assert import_path(target, out, user="dm").changes == []
            target.dispose()
    buffer = io.StringIO()
    write_json(expected, buffer)
    assert note in buffer.getvalue() or "\\" in buffer.getvalue()
    source.dispose()
