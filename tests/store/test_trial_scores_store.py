"""The CLA-IGA grade and the Skindex-29+3 of a visit: stored, audited, refused, exported."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from cletrial.cli import app as cli
from cletrial.errors import FormError, ImportFileError, LockedRecordError
from cletrial.instruments import SKINDEX_DOMAIN_ITEMS, compute_skindex
from cletrial.store import UnitOfWork, export_patient_history
from cletrial.store.fields import table_of
from cletrial.store.import_export import export_to, import_path
from cletrial.store.odm import export_odm_file, import_odm_file, validate_odm
from cletrial.store.repositories.skindex import skindex_values

from .conftest import Seed

D = dt.date(2009, 2, 2)
#: Every item answered "sometimes" (3): each domain scores 50.
FULL = {str(i): 3 for i in range(1, 34)}
runner = CliRunner()


def _count(seed: Seed, table: str) -> int:
    with seed.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table_of(table))).scalar_one())


def _baseline(seed: Seed, **forms: Any) -> int:
    with UnitOfWork(seed.engine, user="ana") as uow:
        return uow.visits.create(patient_id=seed.patient_id, visit_date=D, kind="baseline",
                                 **forms).id  # fmt: skip


def test_grade_and_responses_are_stored_with_their_scores(seed: Seed) -> None:
    visit_id = _baseline(seed, cla_iga=3, skindex={**FULL, "18": None, "31": 5})
    with UnitOfWork(seed.engine, read_only=True) as uow:
        visit = uow.visits.get(visit_id)
        skindex = uow.skindex.for_visit(visit_id)
        assert uow.skindex.for_visits([visit_id, visit_id + 99]).keys() == {visit_id}
    assert visit.cla_iga == 3
    assert skindex is not None and 18 not in skindex.responses and skindex.responses[31] == 5
    assert skindex.score.symptoms == 50.0
    assert skindex.score.lupus_specific == pytest.approx(200 / 3)


def test_a_visit_without_them_stores_nothing(seed: Seed) -> None:
    visit_id = _baseline(seed)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.visits.get(visit_id).cla_iga is None
        assert uow.skindex.for_visit(visit_id) is None
    assert _count(seed, "skindex_assessments") == 0


def test_partly_answered_domains_follow_the_missing_item_rule(seed: Seed) -> None:
    # symptoms: 6 of 7 answered (86%) -> scored; emotions: 7 of 10 (70%) -> missing
    form = {"1": 2, "7": 3, "10": 3, "16": 4, "19": 4, "24": 5,
            "3": 1, "6": 1, "9": 1, "12": 1, "13": 1, "15": 1, "21": 1}  # fmt: skip
    visit_id = _baseline(seed, skindex=form)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        record = uow.skindex.for_visit(visit_id)
    assert record is not None
    assert record.score.symptoms == 62.5 and record.score.emotions is None
    assert record.score.answered["emotions"] == 7
    with seed.engine.connect() as conn:
        row = conn.execute(select(table_of("skindex_assessments"))).mappings().one()
    assert row["symptoms"] == 62.5 and row["emotions"] is None and row["item_2"] is None


@pytest.mark.parametrize(
    ("grade", "shown"), [(5, "5"), (-1, "-1"), (True, "true"), (2.0, "2.0"), ("3", '"3"')]
)
def test_a_grade_outside_0_to_4_is_refused_and_nothing_is_written(
    seed: Seed, grade: Any, shown: str
) -> None:
    with pytest.raises(FormError) as caught:
        _baseline(seed, cla_iga=grade, skindex=FULL)
    assert str(caught.value).startswith(f"cla_iga = {shown}: must be 0, 1, 2, 3 or 4")
    assert _count(seed, "visits") == 0 and _count(seed, "skindex_assessments") == 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"34": 1}, "skindex.34 = 1: unknown item"),
        ({"0": 1}, "skindex.0 = 1: unknown item"),
        ({"5": 6}, "skindex.5 = 6: must be 1, 2, 3, 4 or 5"),
        ({"5": 0}, "skindex.5 = 0: must be 1, 2, 3, 4 or 5"),
        ({"5": "3"}, 'skindex.5 = "3": must be 1, 2, 3, 4 or 5'),
        ({"5": 2.5}, "skindex.5 = 2.5: must be 1, 2, 3, 4 or 5"),
        ({"5": None}, "skindex = {"),
        ({}, "skindex = {}: no item is answered"),
    ],
)
def test_a_bad_skindex_is_refused_naming_the_item(
    seed: Seed, form: dict[str, Any], message: str
) -> None:
    with pytest.raises(FormError) as caught:
        _baseline(seed, cla_iga=2, skindex=form)
    assert str(caught.value).startswith(message)
    assert _count(seed, "visits") == 0


def test_edits_are_audited_with_who_old_new_and_reason(seed: Seed) -> None:
    visit_id = _baseline(seed, cla_iga=3, skindex=FULL)
    with UnitOfWork(seed.engine, user="bea") as uow:
        visit = uow.visits.get(visit_id)
        uow.visits.update(visit_id, expected_version=visit.version, reason="re-graded",
                          cla_iga=1)  # fmt: skip
        stored = uow.skindex.for_visit(visit_id)
        assert stored is not None
        uow.skindex.save(visit_id, {**FULL, "7": 5}, expected_version=stored.version,
                         reason="patient corrected item 7")  # fmt: skip
    with UnitOfWork(seed.engine, read_only=True) as uow:
        visit_history = uow.visits.history(visit_id)
        record = uow.skindex.for_visit(visit_id)
        assert record is not None
        skindex_history = uow.skindex.history(record.id)
    grade = [e for e in visit_history if e.field == "cla_iga" and e.action == "UPDATE"]
    assert [(e.actor, e.old, e.new, e.reason) for e in grade] == [("bea", 3, 1, "re-graded")]
    updates = {e.field: (e.old, e.new, e.reason) for e in skindex_history if e.action == "UPDATE"}
    assert updates["item_7"] == (3, 5, "patient corrected item 7")
    assert updates["symptoms"][1] == pytest.approx(50 + 50 / 7)
    assert not any(f.startswith("item_") and f != "item_7" for f in updates)


def test_an_edit_refuses_a_bad_grade_and_a_signed_visit_is_locked(seed: Seed) -> None:
    visit_id = _baseline(seed, cla_iga=3, skindex=FULL)
    with UnitOfWork(seed.engine, user="bea") as uow, pytest.raises(FormError, match="cla_iga = 7"):
        uow.visits.update(visit_id, expected_version=1, reason="x", cla_iga=7)
    with UnitOfWork(seed.engine, user="admin") as uow:
        uow.visits.sign(visit_id, expected_version=1)
    with UnitOfWork(seed.engine, user="bea") as uow, pytest.raises(LockedRecordError):
        uow.skindex.save(visit_id, {**FULL, "7": 5}, expected_version=1, reason="x")
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.visits.get(visit_id).cla_iga == 3


def test_history_export_gives_the_trial_endpoints(seed: Seed, tmp_path: Path) -> None:
    _baseline(seed, cla_iga=3, skindex=FULL)
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.doses.add(patient_id=seed.patient_id, start_date=D, regimen="5_daily")
        uow.visits.create(patient_id=seed.patient_id, visit_date=D + dt.timedelta(weeks=16),
                          cla_iga=1, skindex={**FULL, "31": 1, "32": 1, "33": 1})  # fmt: skip
        uow.visits.create(patient_id=seed.patient_id, visit_date=D + dt.timedelta(weeks=20))
    with UnitOfWork(seed.engine, read_only=True) as uow:
        history = export_patient_history(uow, seed.patient_id)
    assert history["baseline"]["cla_iga"] == 3 and history["baseline"]["skindex"] == FULL
    assert history["assessments"][1] == {"date": "2009-06-22"}
    url = seed.engine.url.render_as_string(hide_password=False)
    exported = runner.invoke(cli, ["export-history", "--database", url])
    assert exported.exit_code == 0, exported.output
    (tmp_path / "h.jsonl").write_text(exported.stdout)
    derived = runner.invoke(cli, ["derive", str(tmp_path / "h.jsonl"), "--table", "trial",
                                  "--week", "16", "--json"])  # fmt: skip
    assert derived.exit_code == 0, derived.output
    (row,) = json.loads(derived.stdout)
    assert (row["cla_iga_base"], row["cla_iga_wk"], row["cla_iga_success"]) == (3, 1, True)
    assert row["skindex_lupus_specific_chg"] == -50.0 and row["skindex_symptoms_chg"] == 0.0


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _setup_csv(tmp_path: Path) -> str:
    return "study,patient,date,kind,cla_iga,skindex_1,skindex_31\n"


def test_import_csv_and_json_then_round_trip(seed: Seed, tmp_path: Path) -> None:
    csv_file = _write(tmp_path / "visits.csv", _setup_csv(tmp_path)
                      + "LEN,P01,2009-02-02,baseline,3,2,\n")  # fmt: skip
    assert import_path(seed.engine, csv_file, user="dm").created == 1
    document = {"study": "LEN", "visits": [
        {"patient": "P01", "date": "2009-02-02", "cla_iga": 2, "skindex": {"31": 4, "1": None}},
        {"patient": "P01", "date": "2009-05-25", "skindex": FULL},
    ]}  # fmt: skip
    json_file = _write(tmp_path / "more.json", json.dumps(document))
    report = import_path(seed.engine, json_file, user="dm", reason="source document")
    assert (report.created, report.updated) == (1, 1)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        first = uow.visits.by_date(seed.patient_id, D)
        assert first is not None and first.cla_iga == 2
        stored = uow.skindex.for_visit(first.id)
    assert stored is not None and stored.responses == {1: 2, 31: 4}  # a null never erases
    for fmt in ("json", "csv"):
        out = tmp_path / f"export-{fmt}"
        export_to(seed.engine, out if fmt == "csv" else out.with_suffix(".json"), fmt=fmt)
        again = import_path(seed.engine, out if fmt == "csv" else out.with_suffix(".json"),
                            user="dm")  # fmt: skip
        assert again.created == 0 and again.updated == 0, again.changes


@pytest.mark.parametrize(
    ("cells", "column", "shown"),
    [
        ("3.5,2,", "cla_iga", '"3.5"'),
        ("5,2,", "cla_iga", "5"),
        ("-1,2,", "cla_iga", "-1"),
        ("3,6,", "skindex_1", "6"),
        ("3,0,", "skindex_1", "0"),
        ("3,x,", "skindex_1", '"x"'),
    ],
)
def test_import_refusals_name_the_column_and_write_nothing(
    seed: Seed, tmp_path: Path, cells: str, column: str, shown: str
) -> None:
    text = _setup_csv(tmp_path) + "LEN,P01,2009-03-02,scheduled,2,3,4\n"
    text += f"LEN,P01,2009-02-02,baseline,{cells}\n"
    with pytest.raises(ImportFileError) as caught:
        import_path(seed.engine, _write(tmp_path / "visits.csv", text), user="dm")
    assert f"row 3, column {column} = {shown}:" in str(caught.value)
    assert _count(seed, "visits") == 0 and _count(seed, "skindex_assessments") == 0


def test_import_refuses_an_unknown_item(seed: Seed, tmp_path: Path) -> None:
    csv_file = _write(
        tmp_path / "visits.csv", "study,patient,date,skindex_34\nLEN,P01,2009-02-02,1\n"
    )
    with pytest.raises(ImportFileError, match="column skindex_34"):
        import_path(seed.engine, csv_file, user="dm")
    document = {"study": "LEN", "visits": [{"patient": "P01", "date": "2009-02-02",
                                            "skindex": {"34": 1}}]}  # fmt: skip
    with pytest.raises(ImportFileError, match=r"column skindex\.34 = 1: unknown item"):
        import_path(seed.engine, _write(tmp_path / "v.json", json.dumps(document)), user="dm")
    assert _count(seed, "visits") == 0


@given(st.dictionaries(st.sampled_from([str(i) for i in range(1, 34)]),
                       st.one_of(st.none(), st.integers(1, 5)), min_size=1))  # fmt: skip
@settings(max_examples=200)
def test_stored_columns_are_the_answers_and_their_scores(form: dict[str, int | None]) -> None:
    answered = {k: v for k, v in form.items() if v is not None}
    if not answered:
        with pytest.raises(FormError, match="no item is answered"):
            skindex_values(form)
        return
    values = skindex_values(form)
    assert {k: v for k, v in values.items() if k.startswith("item_") and v is not None} == {
        f"item_{k}": v for k, v in answered.items()
    }  # a blank is never stored as an answer
    expected = compute_skindex(form).as_dict()
    for domain, items in SKINDEX_DOMAIN_ITEMS.items():
        score = values[domain]
        assert score == expected[domain]
        share = sum(str(i) in answered for i in items) / len(items)
        assert (score is None) == (share < 0.75)
        assert score is None or 0 <= score <= 100


def test_an_import_correcting_a_stored_grade_is_checked_and_audited(
    seed: Seed, tmp_path: Path
) -> None:
    visit_id = _baseline(seed, cla_iga=3)
    header = "study,patient,date,cla_iga\n"
    bad = _write(tmp_path / "visits.csv", header + "LEN,P01,2009-02-02,7\n")
    with pytest.raises(ImportFileError, match=r"row 2, column cla_iga = 7: must be from 0 to 4"):
        import_path(seed.engine, bad, user="dm", reason="source document")
    good = _write(tmp_path / "visits.csv", header + "LEN,P01,2009-02-02,2\n")
    with pytest.raises(ImportFileError, match="give a reason"):
        import_path(seed.engine, good, user="dm")
    assert import_path(seed.engine, good, user="dm", reason="source document").updated == 1
    with UnitOfWork(seed.engine, read_only=True) as uow:
        changes = [(e.old, e.new, e.reason, e.actor) for e in uow.visits.history(visit_id)
                   if e.field == "cla_iga" and e.action == "UPDATE"]  # fmt: skip
    assert changes == [(3, 2, "source document", "dm")]


def test_an_odm_round_trip_keeps_the_grade_and_the_responses(
    seed: Seed, fresh_engine: Any, tmp_path: Path
) -> None:
    _baseline(seed, cla_iga=3, skindex={"1": 2, "31": 5})
    export_odm_file(seed.engine, tmp_path / "study.xml")
    validate_odm(tmp_path / "study.xml")
    import_odm_file(fresh_engine, tmp_path / "study.xml", user="importer")
    with UnitOfWork(fresh_engine, read_only=True) as uow:
        baseline = export_patient_history(uow, "P01")["baseline"]
    assert (baseline["cla_iga"], baseline["skindex"]) == (3, {"1": 2, "31": 5})
