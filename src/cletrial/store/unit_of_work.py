"""The unit of work: the only place that writes to and commits the study database.

Every insert, update and delete of a record goes through :meth:`UnitOfWork.insert`,
:meth:`UnitOfWork.update` or :meth:`UnitOfWork.delete` (the typed repositories such as
``uow.visits`` build on them), which validate the values, enforce the record ``version``
(optimistic concurrency), the reason for change and the lock of signed visits, and queue the
audit rows. On commit the audit rows are appended to the hash chain in the same transaction as
the change; a change and its audit trail are saved together or not at all.

Leaving the ``with`` block normally commits; an exception rolls everything back.

>>> from cletrial.store import create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     study = uow.studies.create(code="LEN", title="Lenalidomide in CLE",
...                                protocol_id="lenalidomide-cle-2012", protocol_version="1")
>>> with UnitOfWork(engine, user="ana") as uow:
...     uow.studies.update(study.id, expected_version=1, title="Lenalidomide for CLE")
Traceback (most recent call last):
...
cletrial.errors.ReasonRequiredError: studies 1: a reason for change is required ...
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Self

from sqlalchemy import Connection, Engine, delete, event, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from cletrial.errors import (
    ConflictError,
    InputError,
    LockedRecordError,
    NotFoundError,
    ReasonRequiredError,
    StoreError,
)
from cletrial.store import _sql as sql
from cletrial.store.audit import (
    AuditEntry,
    AuditRecord,
    append_audit_entries,
    audit_history,
    audit_log,
)
from cletrial.store.capture_rules import CaptureRules
from cletrial.store.engine import (
    BEGIN_MODE_OPTION,
    RELEASE_AFTER_OPTION,
    is_sqlite,
    read_options,
    release_writer_lock,
)
from cletrial.store.fastpath import execute_insert, execute_insert_family, fetch_dicts
from cletrial.store.fields import (
    encode_value,
    field_specs,
    table_of,
    validate_field,
    validate_record,
)
from cletrial.store.monitoring_rules import MonitoringRules
from cletrial.store.repositories.access import RepositoryAccess
from cletrial.store.types import utc_now
from cletrial.values import check_text

__all__ = ["LOCKED_BY_VISIT", "UnitOfWork"]

#: Tables whose records are locked while their visit is signed (through ``visit_id``).
LOCKED_BY_VISIT: Final = frozenset(
    {
        "clasi_assessments",
        "sledai_assessments",
        "skindex_assessments",
        "labs",
        "protocol_deviations",
        "doses",
        "adverse_events",
        "pregnancy_tests",
        "immunology_results",
        "nerve_conduction_studies",
    }
)


#: Tables whose changes never call for the edit checks (they are the checks' own output).
_NOT_CHECKED: Final = frozenset({"queries", "query_messages", "sdv_marks", "lock_events"})


class UnitOfWork(RepositoryAccess):
    """A transaction on the study database that audits every change it makes.

    Parameters
    ----------
    engine : Engine
        From :func:`cletrial.store.create_engine_for`.
    user : str, optional
        Username of the person making the changes (recorded in every audit row); required
        unless ``read_only``.
    reason : str, optional
        Default reason for change for every change to an already saved record (each operation
        may give its own ``reason=``).
    read_only : bool
        Only read; on SQLite a read-only unit of work never blocks writers.
    dry_run : bool
        Do everything, then roll back instead of committing (``changes`` tells what would have
        been written).
    edit_checks : bool
        Before each commit, run the protocol's edit checks for the patients whose records
        changed, raising and closing their queries in the same transaction
        (:func:`cletrial.store.edit_check_runner.run_edit_checks`); the web application does.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        user: str | None = None,
        reason: str | None = None,
        read_only: bool = False,
        dry_run: bool = False,
        edit_checks: bool = False,
    ) -> None:
        if not read_only and not (user and user.strip()):
            raise InputError("user", user, "a unit of work that writes needs the user's name")
        self.engine = engine
        self.user = user or ""
        self.reason = check_text("reason", reason.strip()) if reason and reason.strip() else None
        self.read_only = read_only
        self.dry_run = dry_run
        self.changes: list[AuditEntry] = []
        self._pending: list[AuditEntry] = []
        self._conn: Connection | None = None
        self._session: Session | None = None
        self._failed = False
        self._created: set[tuple[str, int]] = set()
        self._known: set[tuple[str, int]] = set()
        self._visit_status: dict[int, str] = {}
        self.capture_rules = CaptureRules(self)
        self.monitoring_rules = MonitoringRules(self)
        self.edit_checks = edit_checks
        self._touched: set[int] = set()
        self._visit_patient: dict[int, int] = {}  # visit id -> patient id, as seen
        self._after_commit: list[Callable[[], None]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        options = (
            read_options(self.engine)
            if self.read_only
            else {BEGIN_MODE_OPTION: "IMMEDIATE", RELEASE_AFTER_OPTION: True}
        )
        self._conn = self.engine.connect().execution_options(**options)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and not self.dry_run and not self.read_only and not self._failed:
                self.commit()
            else:
                self.rollback()
        finally:
            if self._session is not None:
                self._session.close()
            if self._conn is not None:
                self._conn.close()
            self._conn = None

    @property
    def connection(self) -> Connection:
        """The connection of this unit of work (for reads; never write through it)."""
        if self._conn is None:
            raise StoreError("the unit of work is not open: use it in a with block")
        if self._failed:
            raise StoreError("this unit of work was rolled back after an error; start a new one")
        return self._conn

    @property
    def session(self) -> Session:
        """An ORM session on the same transaction, for reading mapped objects only.

        Flushing new, changed or deleted objects raises :class:`StoreError`: writes go through
        the unit of work so that they are audited.
        """
        if self._session is None:
            conn = self.connection
            if not conn.in_transaction():
                conn.begin()  # the session joins this transaction and never ends it
            self._session = Session(bind=conn, autoflush=False)
            event.listen(self._session, "before_flush", sql.refuse_orm_writes)
        return self._session

    def history(self, table: str, record_id: int) -> list[AuditRecord]:
        """The audit trail of one record, oldest first (committed rows only)."""
        return audit_history(self.connection, table, record_id)

    def commit(self) -> None:
        """Append the queued audit rows and commit; the unit of work stays usable afterwards.

        Raises
        ------
        StoreError
            In a read-only or dry-run unit of work, or when the database refuses the commit
            (then nothing was saved).
        """
        self._require_writable()
        if self.dry_run:
            raise StoreError("a dry run never commits: leave the with block to roll back")
        conn = self.connection
        if self.edit_checks and self._touched:
            self._run_edit_checks()
        try:
            append_audit_entries(
                conn, self._pending, occurred_at=utc_now(), txid=uuid.uuid4().hex, commit=True
            )
            conn.commit()
            release_writer_lock(conn)
        except DBAPIError as exc:
            self._fail()
            raise StoreError(
                f"commit failed ({exc.orig}): the change is not saved, unless the "
                "connection broke during the commit itself"
            ) from exc
        self.changes.extend(self._pending)
        self._pending = []
        committed, self._after_commit = self._after_commit, []
        for action in committed:
            action()
        self._created.clear()
        self._visit_status.clear()
        self.monitoring_rules.forget()

    def _run_edit_checks(self) -> None:
        from cletrial.store.edit_check_runner import run_edit_checks

        patients, self._touched = sorted(self._touched), set()
        run_edit_checks(self, patient_ids=patients)
        self._touched.clear()  # the queries it wrote are not changes to check

    def after_commit(self, action: Callable[[], None]) -> None:
        """Call ``action`` once the current transaction has committed (never if it rolls back):
        for caches of what the transaction read, which must not outlive a rollback."""
        self._after_commit.append(action)

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        self._after_commit = []
        if self._conn is not None:
            self._conn.rollback()
            release_writer_lock(self._conn)
        if self.dry_run:
            self.changes.extend(self._pending)
        self._pending = []
        committed, self._after_commit = self._after_commit, []
        for action in committed:
            action()
        self._created.clear()
        self._visit_status.clear()
        self._known.clear()
        self._touched.clear()
        self.monitoring_rules.forget()

    def _fail(self) -> None:
        self._after_commit = []
        if self._conn is not None:
            self._conn.rollback()
            release_writer_lock(self._conn)
        self._failed = True
        self._pending = []

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError("this unit of work is read-only")

    def created_in_this_transaction(self, table: str, record_id: int) -> bool:
        """Whether the record was created since the last commit (it has no saved version yet)."""
        return (table, record_id) in self._created

    @property
    def pending_count(self) -> int:
        """How many audit entries are queued since the last commit."""
        return len(self._pending)

    def pending_since(self, mark: int) -> list[AuditEntry]:
        """Audit entries queued after ``mark`` (a value of :attr:`pending_count`)."""
        return self._pending[mark:]

    @property
    def pending_changes(self) -> list[AuditEntry]:
        """Audit entries queued since the last commit (what a commit would write)."""
        return list(self._pending)

    # -- reads -------------------------------------------------------------------------------

    def get(self, table: str, record_id: int, *, lock: bool = False) -> dict[str, Any]:
        """Return one record as a dict, or raise :class:`NotFoundError`.

        ``lock`` takes a row lock until the end of the transaction (PostgreSQL).
        """
        conn = self.connection
        build = sql.by_id(table, lock and not is_sqlite(conn))
        rows = fetch_dicts(conn, build, {"record_id": record_id})  # prepared once per table
        if not rows:
            raise NotFoundError(f"{table} {record_id}: no such record")
        row = rows[0]
        self._known.add((table, record_id))
        if table == "visits" and (lock or is_sqlite(conn)):
            self._visit_status[record_id] = row["status"]
        return row

    def find(self, table: str, **where: Any) -> dict[str, Any] | None:
        """Return the record whose columns equal ``where`` (a natural key), or ``None``."""
        query = sql.select_where(table, tuple(where))
        row = self.connection.execute(query, where).mappings().one_or_none()
        return None if row is None else dict(row)

    # -- writes ------------------------------------------------------------------------------

    def insert(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Create a record (version 1) and queue its audit row; return the stored values.

        Raises
        ------
        InputError
            A value is invalid, or a record with the same unique key exists.
        NotFoundError
            A referenced record does not exist.
        LockedRecordError
            The record would belong to a signed visit.
        """
        self._require_writable()
        row = validate_record(table, values)
        self.monitoring_rules.check_lock(table)
        self._check_visit_lock(table, row)
        self.capture_rules.check(table, row, None)
        self.capture_rules.forget(table)
        try:
            new_id = execute_insert(
                self.connection, table, [{**row, "version": 1}], returning_id=True
            )
            assert new_id is not None
        except IntegrityError as exc:
            raise self._integrity_error(exc, table, row, inserting=True) from None
        return self._inserted(table, new_id, row)

    def insert_with_children(
        self,
        table: str,
        values: Mapping[str, Any],
        children: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        link: str,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Create a record and records belonging to it (each child's ``link`` column is set to
        the new record's id); return the stored values of the record and of its children.

        The result, audit rows included, is that of :meth:`insert` for the record and then for
        each child; on PostgreSQL all of them are written by one statement (one round trip).
        Every row is validated before anything is written. A new record is not signed, so no
        visit lock applies to its children.

        Raises
        ------
        InputError, NotFoundError, LockedRecordError
            As :meth:`insert`, naming the table of the row at fault.
        """
        self._require_writable()
        parent = validate_record(table, values)
        self.monitoring_rules.check_lock(table)
        self._check_visit_lock(table, parent)
        self.capture_rules.check(table, parent, None)
        rows = [(t, validate_record(t, {**v, link: 0})) for t, v in children]
        for child_table, child in rows:
            self.monitoring_rules.check_lock(child_table)
            self.capture_rules.check(child_table, child, None)
        try:
            ids = execute_insert_family(
                self.connection, (table, {**parent, "version": 1}),
                [(t, {**row, "version": 1}) for t, row in rows], link=link,
            )  # fmt: skip
        except IntegrityError as exc:
            at_fault = sql.table_of_error(exc, [table, *(t for t, _ in rows)]) or table
            row = parent if at_fault == table else dict(rows)[at_fault]
            raise self._integrity_error(exc, at_fault, row, inserting=True) from None
        stored = self._inserted(table, ids[0], parent)
        stored_children = []
        for (child_table, child), child_id in zip(rows, ids[1:], strict=True):
            child[link] = ids[0]
            stored_children.append(self._inserted(child_table, child_id, child))
        return stored, stored_children

    def _inserted(self, table: str, new_id: int, row: dict[str, Any]) -> dict[str, Any]:
        """Note a new record and queue its audit row; return its stored values."""
        self._created.add((table, new_id))
        self._known.add((table, new_id))
        self._note_patient(table, {**row, "id": new_id})
        if table == "lock_events":
            self.monitoring_rules.forget()
        if table == "visits":
            self._visit_status[new_id] = row["status"]
            self._visit_patient[new_id] = int(row["patient_id"])
        self._pending.append(
            AuditEntry(self.user, "INSERT", table, new_id, None, None, sql.audit_json(table, row),
                       None, 1)
        )  # fmt: skip
        return {"id": new_id, "version": 1, **row}

    def update(
        self,
        table: str,
        record_id: int,
        changes: Mapping[str, Any],
        *,
        expected_version: int,
        reason: str | None = None,
        system: bool = False,
    ) -> dict[str, Any]:
        """Change fields of a record written at ``expected_version``; return the stored values.

        Fields whose value does not change are ignored; if nothing changes, nothing is written
        (no new version, no audit row). ``system`` lets the store's own operations set derived
        fields (scores, signature); callers never need it.

        Raises
        ------
        ConflictError
            The record was changed since ``expected_version`` (names what changed).
        ReasonRequiredError
            The record was saved before and no reason was given.
        LockedRecordError
            The record belongs to a signed visit.
        """
        self._require_writable()
        specs = field_specs(table)
        validated = {}
        for name, value in changes.items():
            spec = specs.get(name)
            if spec is None or (not spec.editable and not system):
                raise InputError(f"{table}.{name}", value, "cannot be changed" if spec else
                                 f"unknown field of {table}")  # fmt: skip
            validated[name] = validate_field(table, name, value)
        current = self.get(table, record_id, lock=True)
        self._check_version(table, record_id, expected_version, current)
        diff = {
            name: (current[name], new)
            for name, new in validated.items()
            if encode_value(current[name]) != encode_value(new)
        }
        if not diff:
            return current
        self.monitoring_rules.check_lock(table)
        if not system or table != "visits":
            self._check_visit_lock(table, current)
        self.capture_rules.check(table, {**current, **validated}, frozenset(diff))
        self.capture_rules.forget(table)
        why = self._reason_for(table, record_id, reason)
        written = self._write_update(table, current, diff, why)
        self.monitoring_rules.clear_verification(table, record_id, diff, why)
        return written

    def _write_update(
        self, table: str, current: dict[str, Any], diff: dict[str, tuple[Any, Any]],
        reason: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        t = table_of(table)
        version = current["version"]
        values = {name: new for name, (_old, new) in diff.items()}
        try:
            result = self.connection.execute(
                update(t)
                .where(t.c.id == current["id"], t.c.version == version)
                .values(**values, version=version + 1)
            )
        except IntegrityError as exc:
            raise self._integrity_error(exc, table, {**current, **values}) from None
        if result.rowcount != 1:
            raise ConflictError(table, current["id"], version, version + 1)
        self._note_patient(table, current)
        for name, (old, new) in diff.items():
            self._pending.append(
                AuditEntry(self.user, "UPDATE", table, current["id"], name,
                           sql.audit_value(table, name, old), sql.audit_value(table, name, new),
                           reason, version + 1)
            )  # fmt: skip
        if table == "visits" and "status" in values:
            self._visit_status[current["id"]] = values["status"]
        return {**current, **values, "version": version + 1}

    def delete(
        self, table: str, record_id: int, *, expected_version: int, reason: str | None = None
    ) -> None:
        """Delete a record written at ``expected_version`` (a reason is required once saved).

        Records that others refer to (a visit with forms, a patient with visits) cannot be
        deleted: delete the dependent records first.
        """
        self._require_writable()
        current = self.get(table, record_id, lock=True)
        self._check_version(table, record_id, expected_version, current)
        self.monitoring_rules.check_lock(table)
        self._check_visit_lock(table, current)
        self.capture_rules.forget(table)
        why = self._reason_for(table, record_id, reason)
        t = table_of(table)
        try:
            self.connection.execute(delete(t).where(t.c.id == record_id))
        except IntegrityError as exc:
            raise self._integrity_error(exc, table, current) from None
        values = {k: v for k, v in current.items() if k != "id"}
        self._pending.append(
            AuditEntry(self.user, "DELETE", table, record_id, None, sql.audit_json(table, values),
                       None, why, current["version"] + 1)
        )  # fmt: skip
        self._known.discard((table, record_id))
        self._created.discard((table, record_id))
        self._note_patient(table, current)
        self.monitoring_rules.clear_verification(table, record_id, None, why)

    def _note_patient(self, table: str, row: Mapping[str, Any]) -> None:
        """Remember whose records changed, for the edit checks run before the commit."""
        if not self.edit_checks or table in _NOT_CHECKED:
            return
        patient = row.get("patient_id")
        if patient is None and row.get("visit_id") is not None:
            patient = self._patient_of_visit(int(row["visit_id"]))
        if patient is None and table == "patients":
            patient = row.get("id")
        if patient is not None:
            self._touched.add(int(patient))

    def _patient_of_visit(self, visit_id: int) -> int | None:
        patient = self._visit_patient.get(visit_id)
        if patient is None:
            found = self.find("visits", id=visit_id)
            patient = None if found is None else int(found["patient_id"])
            if patient is not None:
                self._visit_patient[visit_id] = patient
        return patient

    # -- rules -------------------------------------------------------------------------------

    def _check_version(
        self, table: str, record_id: int, expected: int, current: Mapping[str, Any]
    ) -> None:
        if current["version"] != expected:
            raise ConflictError(table, record_id, expected, current["version"],
                                self._changed_since(table, record_id, expected))  # fmt: skip

    def _changed_since(self, table: str, record_id: int, version: int) -> dict[str, Any]:
        rows = self.connection.execute(
            select(audit_log.c.field, audit_log.c.new_value, audit_log.c.actor)
            .where(audit_log.c.table_name == table, audit_log.c.record_id == record_id,
                   audit_log.c.record_version > version)
            .order_by(audit_log.c.id)
        )  # fmt: skip
        return {row.field or "*": row.new_value for row in rows}

    def _reason_for(self, table: str, record_id: int, reason: str | None) -> str | None:
        why = check_text("reason", reason.strip()) if reason and reason.strip() else self.reason
        if why is None and (table, record_id) not in self._created:
            raise ReasonRequiredError(
                f"{table} {record_id}: a reason for change is required to change a saved record"
            )
        return why

    def _missing_parent(self, table: str, row: Mapping[str, Any]) -> NotFoundError | None:
        """After a failed insert (transaction rolled back): which referenced record is missing."""
        assert self._conn is not None
        try:
            for column, parent in sql.foreign_keys(table):
                value = row.get(column)
                query = sql.select_by_id(parent, False)
                if (
                    value is not None
                    and self._conn.execute(query, {"record_id": value}).first() is None
                ):
                    return NotFoundError(f"{table}.{column} = {value}: no such {parent} record")
            return None
        finally:
            self._conn.rollback()
            release_writer_lock(self._conn)

    def _check_visit_lock(self, table: str, row: Mapping[str, Any]) -> None:
        if table == "visits":
            if row.get("status") == "signed" and "id" in row:
                raise LockedRecordError(
                    f"visits {row['id']} is signed: unlock it with a reason before changing it"
                )
            return
        if table not in LOCKED_BY_VISIT or row.get("visit_id") is None:
            return
        visit_id = int(row["visit_id"])
        status = self._visit_status.get(visit_id)
        if status is None:
            status = self.get("visits", visit_id, lock=True)["status"]
        if status == "signed":
            raise LockedRecordError(
                f"{table} of visits {visit_id}: the visit is signed; unlock it with a reason first"
            )

    def _integrity_error(
        self, exc: IntegrityError, table: str, row: Mapping[str, Any], inserting: bool = False
    ) -> Exception:
        self._fail()
        message = str(exc.orig)
        lowered = message.lower()
        if "unique" in lowered or "duplicate key" in lowered:
            columns = sql.unique_columns(table, message) or ["id"]
            shown = ", ".join(columns)
            return InputError(f"{table}.{shown}" if len(columns) == 1 else f"{table}.({shown})",
                              [encode_value(row.get(c)) for c in columns] if len(columns) > 1
                              else encode_value(row.get(columns[0])),
                              "a record with this value already exists")  # fmt: skip
        if "foreign key" in lowered:
            missing = self._missing_parent(table, row) if inserting else None
            if missing is not None:
                return missing
            return InputError(table, row.get("id"), "other records still refer to this record, "
                              "or it refers to a record that does not exist")  # fmt: skip
        return StoreError(f"{table}: the database refused the change: {message}")
