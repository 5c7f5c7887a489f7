"""Run the protocol's edit checks over stored patients and keep their queries in step.

:func:`run_edit_checks` reads the patients' records in batches (one query per table per 500
patients), runs the checks of the study's protocol (:func:`cletrial.protocol.compile_edit_checks`,
pure) and reconciles the findings with the queries the checks raised before:

- a finding with no query of its own (same check, record and field) raises one (``origin``
  ``edit_check``, the check's severity, its message as the question);
- an active query whose finding is gone (the data were corrected) is closed by the check;
- a query a monitor or data manager closed stays closed (the value was confirmed), while one the
  check closed itself is raised anew if the finding comes back.

The unit of work's user is recorded in the audit trail; the messages say ``system``.

A save checks one patient: its records come from the process's record cache
(:mod:`cletrial.store.patient_forms`) and the one-record checks reuse what they found in the
records that have not changed since the patient's last save (a
:class:`~cletrial.protocol.CheckMemo` per patient, kept for the patients the record cache
keeps), so a save costs the same whether the patient has five visits or fifty.

>>> import datetime as dt
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="coord") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01", sex="M")
...     _ = uow.screenings.save(p.id, screening_date=dt.date(2024, 1, 10), record={},
...                             verdict="eligible")
...     lab = uow.labs.add(patient_id=p.id, sample_date=dt.date(2024, 1, 20),
...                        test="platelets", value=800, unit="10^9/L")
>>> with UnitOfWork(engine, user="dm") as uow:
...     run = run_edit_checks(uow)
>>> run.opened, [q.check_id for q in run.raised]
(1, ['LAB-PLATELETS-QUERY'])
>>> with UnitOfWork(engine, user="coord") as uow:
...     _ = uow.labs.update(lab.id, expected_version=1, value=300, reason="typing error")
...     run = run_edit_checks(uow, patient_ids=[p.id])
>>> run.opened, run.closed
(0, 1)
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Select, bindparam, select

from cletrial.protocol import CheckFinding, CheckMemo, compile_edit_checks, load_protocol
from cletrial.protocol.edit_check_forms import FORM_COLUMNS
from cletrial.store.fastpath import fetch_all
from cletrial.store.fields import table_of
from cletrial.store.patient_forms import CACHED_PATIENTS, load_one_patient
from cletrial.store.records_monitoring import QueryRecord
from cletrial.store.tables_forms import BY_VISIT

if TYPE_CHECKING:
    from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["CHUNK", "CheckRun", "load_patient_forms", "run_edit_checks"]

#: Patients read per batch.
CHUNK: Final = 500

Forms = dict[str, list[dict[str, Any]]]
Key = tuple[str, str, int, str | None]

_memo_lock = threading.Lock()
#: engine -> (patient id, protocol id) -> the memo of the patient's last check (most recently
#: used last). A memo in use by a save is taken out, so two saves never share one.
_memos: WeakKeyDictionary[Engine, OrderedDict[tuple[int, str], CheckMemo]] = WeakKeyDictionary()


def _take_memo(engine: Engine, key: tuple[int, str]) -> CheckMemo:
    with _memo_lock:
        memos = _memos.get(engine)
        memo = memos.pop(key, None) if memos is not None else None
    return memo if memo is not None else CheckMemo()


def _give_back_memo(engine: Engine, key: tuple[int, str], memo: CheckMemo) -> None:
    with _memo_lock:
        memos = _memos.setdefault(engine, OrderedDict())
        memos[key] = memo
        while len(memos) > CACHED_PATIENTS:
            memos.popitem(last=False)


@dataclass
class CheckRun:
    """What a run did: patients and forms checked, evaluations (check x record), findings,
    queries raised and closed, and the seconds spent reading, checking and writing."""

    patients: int = 0
    forms: int = 0
    evaluations: int = 0
    findings: int = 0
    opened: int = 0
    closed: int = 0
    raised: list[QueryRecord] = field(default_factory=list)
    read_s: float = 0.0
    check_s: float = 0.0
    write_s: float = 0.0


def load_patient_forms(
    uow: UnitOfWork, patient_ids: Sequence[int], forms: Iterable[str] | None = None
) -> dict[int, Forms]:
    """The records of these patients, by patient id, then by table (rows as dicts): every form
    an edit check may read, or only ``forms``. One query per form; for one patient (a save),
    only the records new or changed since the process last read them are read in full
    (:func:`cletrial.store.patient_forms.load_one_patient`)."""
    tables = list(FORM_COLUMNS if forms is None else forms)
    if len(patient_ids) == 1:  # a save: the records already seen come from the process cache
        (pid,) = patient_ids
        return {pid: load_one_patient(uow, pid, tables)}
    found: dict[int, Forms] = {pid: defaultdict(list) for pid in patient_ids}
    conn = uow.connection
    ids = {"ids": list(patient_ids)}
    for table in tables:
        result = conn.execute(_form_query(table), ids)
        keys = tuple(result.keys())
        at = keys.index("id") if table == "patients" else keys.index("patient_id")
        for row in result:
            found[row[at]][table].append(dict(zip(keys, row, strict=True)))
    return found


def _form_query(table: str) -> Select[Any]:
    """The rows of ``table`` for the patients in the expanding ``ids``."""
    t, visits = table_of(table), table_of("visits")
    if table in BY_VISIT:
        owner = visits.c.patient_id
        query = select(t, owner.label("patient_id")).join(visits, visits.c.id == t.c.visit_id)
    else:
        query = select(t)
        owner = t.c.id if table == "patients" else t.c.patient_id
    return query.where(owner.in_(bindparam("ids", expanding=True)))


def _forms_read(protocol: Any) -> tuple[str, ...]:
    """The forms the protocol's checks read: their own, and the visits, doses and labs the
    checks across forms use (visit dates, the first dose, the labs behind SLEDAI-2K items)."""
    wanted = {check.form for check in protocol.edit_checks} | {"visits", "doses", "labs"}
    return tuple(table for table in FORM_COLUMNS if table in wanted)


def _key(check_id: str | None, table: str | None, record_id: int | None, column: str | None) -> Key:
    return (check_id or "", table or "", record_id or 0, column)


def run_edit_checks(
    uow: UnitOfWork,
    *,
    patient_ids: Iterable[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> CheckRun:
    """Run the edit checks of each patient's study protocol and raise or close their queries.

    Parameters
    ----------
    uow : UnitOfWork
        A writing unit of work (its user is recorded in the audit trail).
    patient_ids : iterable of int, optional
        The patients to check (default: every patient of the database).
    progress : callable, optional
        Called with the number of patients done after each batch (for a progress bar).
    """
    run = CheckRun()
    conn = uow.connection
    protocols = {int(i): _checks_of(p) for i, p in fetch_all(conn, _studies_query, {})[1]}
    wanted = None if patient_ids is None else sorted(set(patient_ids))
    if wanted is not None and len(wanted) == 1:  # a save: prepared statements only
        rows = fetch_all(conn, _patient_query, {"patient_id": wanted[0]})[1]
    else:
        patients = table_of("patients")
        query = select(patients.c.id, patients.c.study_id).order_by(patients.c.id)
        if wanted is not None:
            query = query.where(patients.c.id.in_(wanted))
        rows = [tuple(r) for r in conn.execute(query)]
    study_of = {int(r[0]): int(r[1]) for r in rows}
    ids = list(study_of)
    read = [table for table in FORM_COLUMNS
            if any(table in protocols[s][1] for s in set(study_of.values()))]  # fmt: skip
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        t0 = time.perf_counter()
        forms = load_patient_forms(uow, chunk, read)
        existing = _existing(uow, chunk)
        t1 = time.perf_counter()
        findings: dict[int, list[CheckFinding]] = {}
        for pid in chunk:
            checks = protocols[study_of[pid]][0]
            patient_forms = forms[pid]
            if len(ids) == 1:  # a save: reuse what the one-record checks found last time
                key = (pid, checks.protocol_id)
                memo = _take_memo(uow.engine, key)
                findings[pid] = checks.run(patient_forms, memo)
                _give_back_memo(uow.engine, key, memo)
            else:
                findings[pid] = checks.run(patient_forms)
            run.evaluations += checks.evaluations(patient_forms)
            run.forms += sum(map(len, patient_forms.values()))
        t2 = time.perf_counter()
        for pid in chunk:
            _reconcile(uow, pid, findings[pid], existing.get(pid, {}), run)
        run.check_s += t2 - t1
        run.read_s += t1 - t0
        run.write_s += time.perf_counter() - t2
        run.patients += len(chunk)
        if progress is not None:
            progress(run.patients)
    return run


def _studies_query() -> Select[Any]:
    t = table_of("studies")
    return select(t.c.id, t.c.protocol_id)


def _patient_query() -> Select[Any]:
    t = table_of("patients")
    return select(t.c.id, t.c.study_id).where(t.c.id == bindparam("patient_id"))


def _check_queries() -> Select[Any]:
    t = table_of("queries")
    return select(t).where(t.c.patient_id == bindparam("patient_id"),
                           t.c.origin == "edit_check").order_by(t.c.id)  # fmt: skip


@lru_cache(maxsize=16)
def _checks_of(protocol_id: str) -> tuple[Any, tuple[str, ...]]:
    """The compiled checks of a protocol and the forms they read, loaded once per process (the
    bundled definitions do not change while it runs)."""
    protocol = load_protocol(protocol_id)
    return compile_edit_checks(protocol), _forms_read(protocol)


def _existing(uow: UnitOfWork, patient_ids: Sequence[int]) -> dict[int, dict[Key, QueryRecord]]:
    """The edit-check queries of these patients by key (the newest query of each key)."""
    found: dict[int, dict[Key, QueryRecord]] = defaultdict(dict)
    if len(patient_ids) == 1:
        keys, rows = fetch_all(uow.connection, _check_queries, {"patient_id": patient_ids[0]})
        queries = [QueryRecord.from_row(dict(zip(keys, row, strict=True))) for row in rows]
    else:
        queries = uow.queries.active_checks(patient_ids)
    for query in queries:
        key = _key(query.check_id, query.table_name, query.record_id, query.field)
        found[query.patient_id][key] = query  # ids grow: the newest wins
    return found


def _reconcile(
    uow: UnitOfWork, patient_id: int, findings: list[CheckFinding],
    existing: dict[Key, QueryRecord], run: CheckRun,
) -> None:  # fmt: skip
    run.findings += len(findings)
    current: set[Key] = set()
    for finding in findings:
        key = _key(finding.check_id, finding.table, finding.record_id, finding.field)
        current.add(key)
        query = existing.get(key)
        if query is not None and (query.is_active or not _closed_by_check(uow, query)):
            continue
        raised = uow.queries.raise_query(
            patient_id=patient_id, subject=finding.message, role="system",
            table_name=finding.table, record_id=finding.record_id, field=finding.field,
            origin="edit_check", check_id=finding.check_id, severity=finding.severity,
        )  # fmt: skip
        run.opened += 1
        run.raised.append(raised)
    for key, query in existing.items():
        if key not in current and query.is_active:
            uow.queries.act(
                query.id,
                "close",
                role="system",
                expected_version=query.version,
                text=f"closed by edit check {query.check_id}: the data now pass it",
            )
            run.closed += 1


def _closed_by_check(uow: UnitOfWork, query: QueryRecord) -> bool:
    """Whether the check itself closed the query (not a monitor confirming the value)."""
    messages = uow.queries.messages(query.id)
    return bool(messages) and messages[-1].author_role == "system"
