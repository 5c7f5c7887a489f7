"""One patient's forms for the edit checks run on save, without reading the whole history anew.

The checks run on save read every record of the patient (a CLASI row has 63 columns); turning
those rows into Python values each time cost more than the rest of the save once a patient had
a few dozen visits. :func:`load_one_patient` reads only the ``(id, version)`` of each record and
takes the records it has already seen at that version from a cache of this process; it reads in
full only the records that are new or changed.

Why a record's ``(table, id, version)`` names its content for ever: every change goes through
the unit of work, which adds one to the version of each record it updates; ids are never reused
(``AUTOINCREMENT`` on SQLite, sequences on PostgreSQL). An id can be reused only after a rolled
back insert on SQLite, so records enter the cache only once the unit of work that read them has
committed (:meth:`UnitOfWork.after_commit`): a record read from a rolled back transaction is
never kept.

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
>>> with UnitOfWork(engine, user="coord") as uow:
...     [row["value"] for row in load_one_patient(uow, p.id, ["labs"])["labs"]]
[800.0]
>>> with UnitOfWork(engine, user="coord") as uow:  # the changed record is read again
...     _ = uow.labs.update(lab.id, expected_version=1, value=300, reason="typing error")
...     [row["value"] for row in load_one_patient(uow, p.id, ["labs"])["labs"]]
[300.0]
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Select, UniqueConstraint, bindparam, select

from cletrial.store.fastpath import fetch_all, fetch_dicts
from cletrial.store.fields import table_of
from cletrial.store.tables_forms import BY_VISIT

if TYPE_CHECKING:
    from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["CACHED_PATIENTS", "FULL_READ_FROM", "forget_all", "load_one_patient"]

#: Patients whose records the process keeps per database (least recently saved dropped first).
CACHED_PATIENTS: Final = 128

#: From this many records missing from the cache, a table is read in one query, not by id.
FULL_READ_FROM: Final = 8

Forms = dict[str, list[dict[str, Any]]]


class _TableCache(NamedTuple):
    """One table of a patient as last read: the ``(id, version)`` listing (``None`` when a row
    was read at another version than listed), the rows by id with their versions, and the rows
    in the listing's order (handed out again, in a new list, while the listing is unchanged)."""

    listed: list[Any] | None
    by_id: dict[int, tuple[int, dict[str, Any]]]
    rows: tuple[dict[str, Any], ...]


#: table -> what was read of it
_Cached = dict[str, _TableCache]

_lock = threading.Lock()
#: engine -> patient id -> the records last read (an engine is one database; ids repeat across
#: databases). An engine's entries go with it.
_caches: WeakKeyDictionary[Engine, OrderedDict[int, _Cached]] = WeakKeyDictionary()


def forget_all() -> None:
    """Empty the cache (the records are read again from the database on the next save): call
    it if a database is replaced under a live engine (a restore).

    >>> forget_all()
    """
    with _lock:
        _caches.clear()


def load_one_patient(uow: UnitOfWork, patient_id: int, tables: Iterable[str]) -> Forms:
    """The rows of ``tables`` that belong to the patient (each row a dict of its columns, as
    stored; for forms filled at a visit, with the visit's ``patient_id``), by the table's
    key (a visit's forms by its date, labs by date and test, ...), then id.

    The rows equal what one ``SELECT`` per table returns in this transaction; records already
    seen at the same version come from the cache. A table whose ``(id, version)`` listing is
    the cached one, or the cached one with records added at its end (the usual save), costs
    no work per cached row in Python. Rows read here are cached when ``uow`` commits.
    """
    names = tuple(tables)
    with _lock:
        patients = _caches.get(uow.engine)
        known = patients.get(patient_id) if patients is not None else None
    conn = uow.connection
    forms: Forms = defaultdict(list)
    seen: _Cached = {}
    for table in names:
        cached = known.get(table) if known is not None else None
        listed = fetch_all(conn, _versions_query(table), {"patient_id": patient_id})[1]
        entry = _extended(uow, table, patient_id, listed, cached)
        if entry is None:
            entry = _read_listed(uow, table, patient_id, listed, cached)
        seen[table], forms[table] = entry, list(entry.rows)
    uow.after_commit(lambda: _keep(uow.engine, patient_id, seen))
    return forms


def _extended(
    uow: UnitOfWork, table: str, patient_id: int, listed: list[Any], cached: _TableCache | None
) -> _TableCache | None:
    """The cached table when ``listed`` is its listing, or that listing with records added at
    its end (those read now); ``None`` when anything else changed (the general path)."""
    if cached is None or cached.listed is None:
        return None
    size = len(cached.listed)
    if listed[:size] != cached.listed:  # compared in C, not row by row in Python
        return None
    if len(listed) == size:
        return cached
    tail = listed[size:]
    fresh = _read(uow, table, patient_id, [rid for rid, _version in tail])
    added = []
    for rid, version in tail:
        entry = fresh.get(rid)
        if entry is None or entry[0] != version:  # changed again since it was listed
            return None
        added.append(entry)
    by_id = dict(cached.by_id)
    by_id.update((int(entry[1]["id"]), entry) for entry in added)
    return _TableCache(listed, by_id, cached.rows + tuple(row for _version, row in added))


def _read_listed(
    uow: UnitOfWork, table: str, patient_id: int, listed: list[Any], cached: _TableCache | None
) -> _TableCache:
    """The records of ``listed``: those cached at the version listed from the cache, the
    others read now."""
    by_id = cached.by_id if cached is not None else {}
    missing = {rid for rid, version in listed if by_id.get(rid, (0,))[0] != version}
    fresh = _read(uow, table, patient_id, sorted(missing))
    entries: dict[int, tuple[int, dict[str, Any]]] = {}
    for rid, _version in listed:
        # A record read now may be newer than listed (another writer, PostgreSQL), or gone.
        entry = fresh.get(rid) if rid in missing else by_id[rid]
        if entry is not None:
            entries[rid] = entry
    rows = tuple(row for _version, row in entries.values())
    # The listing names the rows only if each was read at the version listed.
    exact = len(entries) == len(listed) and all(
        entries[rid][0] == version for rid, version in listed
    )
    return _TableCache(listed if exact else None, entries, rows)


def _read(
    uow: UnitOfWork, table: str, patient_id: int, ids: list[int]
) -> dict[int, tuple[int, dict[str, Any]]]:
    """The records ``ids`` of ``table`` as (version, row) by id: one query per id, or the
    patient's whole table when many are missing (a record deleted meanwhile is left out)."""
    if not ids:
        return {}
    conn = uow.connection
    if len(ids) >= FULL_READ_FROM:
        rows = fetch_dicts(conn, _rows_query(table, False), {"patient_id": patient_id})
    else:
        one = _rows_query(table, True)
        rows = [row for rid in ids for row in fetch_dicts(conn, one, {"record_id": rid})]
    return {int(row["id"]): (int(row["version"]), row) for row in rows}


def _keep(engine: Engine, patient_id: int, seen: _Cached) -> None:
    """Cache the rows a committed unit of work read (called after its commit)."""
    with _lock:
        cache = _caches.setdefault(engine, OrderedDict())
        cache[patient_id] = seen
        cache.move_to_end(patient_id)
        while len(cache) > CACHED_PATIENTS:
            cache.popitem(last=False)


def _owned(table: str, query: Select[Any]) -> tuple[Select[Any], Any]:
    """``query`` joined to the visits for forms filled at a visit, and the patient column."""
    t, visits = table_of(table), table_of("visits")
    if table in BY_VISIT:
        return query.join(visits, visits.c.id == t.c.visit_id), visits.c.patient_id
    return query, t.c.id if table == "patients" else t.c.patient_id


def _order(table: str) -> list[Any]:
    """The order of a patient's records: the unique key that starts with ``patient_id`` (the
    visit's, for forms filled at a visit; the index SQLite reads them by), then the id."""
    t = table_of(table)
    keyed = table_of("visits") if table in BY_VISIT else t
    for constraint in sorted(keyed.constraints, key=lambda c: str(c.name)):
        names = [c.name for c in getattr(constraint, "columns", ())]
        if isinstance(constraint, UniqueConstraint) and names[:1] == ["patient_id"]:
            return [keyed.c[name] for name in names[1:]] + [t.c.id]
    return [t.c.id]


@cache
def _versions_query(table: str) -> Callable[[], Select[Any]]:
    """A builder of ``SELECT id, version`` of the patient's records of ``table``, in
    :func:`_order`."""

    def build() -> Select[Any]:
        t = table_of(table)
        query, owner = _owned(table, select(t.c.id, t.c.version))
        return query.where(owner == bindparam("patient_id")).order_by(*_order(table))

    return build


@cache
def _rows_query(table: str, by_id: bool) -> Callable[[], Select[Any]]:
    """A builder of the full rows of ``table`` (with the visit's ``patient_id`` for forms
    filled at a visit): one record ``record_id``, or every record of ``patient_id``."""

    def build() -> Select[Any]:
        t = table_of(table)
        columns: list[Any] = [t]
        if table in BY_VISIT:
            columns.append(table_of("visits").c.patient_id.label("patient_id"))
        query, owner = _owned(table, select(*columns))
        if by_id:
            return query.where(t.c.id == bindparam("record_id"))
        return query.where(owner == bindparam("patient_id"))

    return build
