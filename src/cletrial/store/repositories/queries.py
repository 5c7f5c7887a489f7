"""Queries (discrepancy notes): raised on a patient, a form or a field, by a monitor or data
manager or by an edit check, answered by the site, closed by the monitor.

Statuses go ``new`` -> ``open`` (the site acknowledged it) -> ``answered`` -> ``closed``, and an
answered or closed query may be reopened. Each step is a message of the query's thread, written
with the change of status in the same unit of work, so both are in the audit trail. An answer
may correct the value the query is about: the correction is saved through the record's own
repository (so it is validated, graded and scored as any edit) with the reason
``query #<id>: <answer>``.

>>> import datetime as dt
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="coord") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01", sex="F")
...     _ = uow.screenings.save(p.id, screening_date=dt.date(2024, 1, 10), record={},
...                             verdict="eligible")
...     lab = uow.labs.add(patient_id=p.id, sample_date=dt.date(2024, 1, 12),
...                        test="platelets", value=25, unit="10^9/L")
>>> with UnitOfWork(engine, user="mon") as uow:
...     q = uow.queries.raise_query(patient_id=p.id, table_name="labs", record_id=lab.id,
...                                 field="value", subject="25? The source says 250.",
...                                 role="monitor")
>>> with UnitOfWork(engine, user="coord") as uow:
...     q = uow.queries.act(q.id, "answer", role="coordinator", expected_version=q.version,
...                         text="Typing error, corrected", correction={"value": 250})
...     uow.labs.get(lab.id).value, uow.labs.get(lab.id).ctcae_grade
(250.0, 0)
>>> with UnitOfWork(engine, user="mon") as uow:
...     q = uow.queries.act(q.id, "close", role="monitor", expected_version=q.version,
...                         text="Agrees with the source")
...     q.status, [m.action for m in uow.queries.messages(q.id)]
('closed', ['raise', 'answer', 'close'])
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Select, func, select

from cletrial.errors import AccessDeniedError, InputError
from cletrial.store.fields import encode_value, field_specs, table_of
from cletrial.store.records import clasi_columns_to_form
from cletrial.store.records_monitoring import QueryMessageRecord, QueryRecord
from cletrial.store.repositories.base import PatientRecords, Repository
from cletrial.store.tables_forms import (
    BY_VISIT,
    FORM_ITEM_COLUMNS,
    SKINDEX_ITEM_COLUMNS,
    SLEDAI_ITEM_COLUMNS,
)
from cletrial.store.types import utc_now
from cletrial.store.vocab import QUERY_STATUSES

__all__ = [
    "QUERY_TRANSITIONS",
    "REVIEW_ROLES",
    "SITE_ROLES",
    "QueryMessageRepository",
    "QueryRepository",
    "patient_of_record",
]

#: Roles of the site, who acknowledge and answer queries.
SITE_ROLES: Final = frozenset({"investigator", "coordinator"})
#: Roles who raise, close and reopen queries ("system" is an edit check).
REVIEW_ROLES: Final = frozenset({"monitor", "data_manager"})

#: Action -> (statuses it may follow, status after (None: unchanged), roles allowed).
QUERY_TRANSITIONS: Final[dict[str, tuple[tuple[str, ...], str | None, frozenset[str]]]] = {
    "acknowledge": (("new",), "open", SITE_ROLES),
    "answer": (("new", "open"), "answered", SITE_ROLES),
    "close": (("new", "open", "answered"), "closed", REVIEW_ROLES | {"system"}),
    "reopen": (("answered", "closed"), "open", REVIEW_ROLES),
    "comment": (("new", "open", "answered"), None, SITE_ROLES | REVIEW_ROLES),
}


def patient_of_record(uow: Any, table: str, record_id: int) -> int:
    """The id of the patient a record belongs to (raises NotFoundError, InputError)."""
    row = uow.get(table, record_id)
    if table == "patients":
        return int(row["id"])
    if table in BY_VISIT:
        return int(uow.get("visits", row["visit_id"])["patient_id"])
    if "patient_id" not in row:
        raise InputError("queries.table_name", table, "is not a form of a patient")
    return int(row["patient_id"])


class QueryMessageRepository(Repository[QueryMessageRecord]):
    """The messages of queries (written by :class:`QueryRepository` only)."""

    table = "query_messages"
    record = QueryMessageRecord


class QueryRepository(PatientRecords[QueryRecord]):
    """Queries of patients; every change of status is a message of the thread."""

    table = "queries"
    record = QueryRecord

    def raise_query(
        self,
        *,
        patient_id: int,
        subject: str,
        role: str,
        table_name: str | None = None,
        record_id: int | None = None,
        field: str | None = None,
        origin: str = "manual",
        check_id: str | None = None,
        severity: str | None = None,
    ) -> QueryRecord:
        """Raise a query (status ``new``) on a patient, a form or one field of a form.

        Raises
        ------
        AccessDeniedError
            The role may not raise queries (monitors, data managers and edit checks may).
        InputError
            No question, an unknown field, or a record of another patient.
        """
        allowed = REVIEW_ROLES | {"system"}
        if role not in allowed:
            raise AccessDeniedError(f"a {role} may not raise queries (monitors and data "
                                        "managers do)")  # fmt: skip
        if not subject or not subject.strip():
            raise InputError("queries.subject", subject, "is required: ask the question")
        self._check_target(patient_id, table_name, record_id, field)
        now = utc_now()
        query = self._create({
            "patient_id": patient_id, "table_name": table_name, "record_id": record_id,
            "field": field, "status": "new", "origin": origin, "check_id": check_id,
            "severity": severity, "subject": subject.strip(), "opened_by": self._uow.user,
            "opened_at": now, "status_by": self._uow.user, "status_at": now,
        })  # fmt: skip
        self._message(query.id, "raise", "new", role, subject.strip(), None, now)
        return query

    def _check_target(
        self, patient_id: int, table: str | None, record_id: int | None, field: str | None
    ) -> None:
        if table is None:
            if record_id is not None or field is not None:
                raise InputError("queries.table_name", None, "is required with a record or field")
            self._uow.get("patients", patient_id)
            return
        if record_id is None:
            raise InputError("queries.record_id", None, f"is required for a query on {table}")
        owner = patient_of_record(self._uow, table, record_id)
        if owner != patient_id:
            raise InputError("queries.record_id", record_id,
                             f"{table} {record_id} belongs to another patient")  # fmt: skip
        if field is not None and field not in field_specs(table):
            raise InputError("queries.field", field, f"is not a field of {table}")

    def act(
        self,
        query_id: int,
        action: str,
        *,
        role: str,
        expected_version: int,
        text: str | None = None,
        correction: Mapping[str, Any] | None = None,
    ) -> QueryRecord:
        """Take a step of the query's life: acknowledge, answer (optionally correcting the
        value), close, reopen or comment; return the query as it is afterwards.

        Raises
        ------
        AccessDeniedError
            The role may not take this step.
        InputError
            The step does not follow the query's status, a required text is missing, or the
            correction is refused (named by the record's own rules).
        ConflictError
            The query changed since ``expected_version``.
        """
        rule = QUERY_TRANSITIONS.get(action)
        if rule is None:
            raise InputError("query_messages.action", action,
                             f"must be one of {', '.join(QUERY_TRANSITIONS)}")  # fmt: skip
        after_statuses, after, roles = rule
        if role not in roles:
            raise AccessDeniedError(f"a {role} may not {action} a query")
        query = self.get(query_id)
        if query.status not in after_statuses:
            raise InputError(
                "queries.status",
                query.status,
                f"a query that is {query.status} cannot be {_past(action)}; "
                f"{action} needs one that is {' or '.join(after_statuses)}",
            )
        words = (text or "").strip()
        if not words and action != "acknowledge":
            raise InputError("query_messages.text", text, f"is required to {action} a query")
        changed = None
        if correction:
            if action != "answer":
                raise InputError("query_messages.correction", dict(correction),
                                 "a correction is given with an answer")  # fmt: skip
            changed = self._correct(query, correction, f"query #{query.id}: {words}")
        status = after or query.status
        now = utc_now()
        row = self._uow.update(
            self.table, query_id, {"status": status, "status_by": self._uow.user,
                                   "status_at": now},
            expected_version=expected_version, reason=f"query {action}: {words or action}",
        )  # fmt: skip
        self._message(query_id, action, status, role, words or "acknowledged", changed, now)
        return QueryRecord.from_row(row)

    def _message(
        self, query_id: int, action: str, status: str, role: str, text: str,
        correction: str | None, when: dt.datetime,
    ) -> None:  # fmt: skip
        self._uow.insert("query_messages", {
            "query_id": query_id, "action": action, "status_after": status,
            "author": self._uow.user, "author_role": role, "posted_at": when, "text": text,
            "correction": correction,
        })  # fmt: skip

    def _correct(self, query: QueryRecord, changes: Mapping[str, Any], reason: str) -> str:
        """Save the site's correction of the queried record; return it as JSON (old, new)."""
        table, record_id = query.table_name, query.record_id
        if table is None or record_id is None:
            raise InputError("query_messages.correction", dict(changes),
                             "a query on the patient has no value to correct")  # fmt: skip
        current = self._uow.get(table, record_id)
        unknown = [name for name in changes if name not in current]
        if unknown:
            raise InputError("query_messages.correction", unknown[0], f"is not a field of {table}")
        expected = int(current["version"])
        uow = self._uow
        if table in BY_VISIT:
            self._correct_form(table, current, changes, reason)
        elif table in ("labs", "doses", "adverse_events"):
            getattr(uow, table).update(record_id, expected_version=expected, reason=reason,
                                       **changes)  # fmt: skip
        else:
            uow.update(table, record_id, dict(changes), expected_version=expected, reason=reason)
        return json.dumps({name: [encode_value(current[name]), encode_value(value)]
                           for name, value in changes.items()}, sort_keys=True)  # fmt: skip

    def _correct_form(
        self, table: str, current: dict[str, Any], changes: Mapping[str, Any], reason: str
    ) -> None:
        items = FORM_ITEM_COLUMNS[table]
        outside = [name for name in changes if name not in items]
        if outside or current.get("entry", "items") != "items":
            raise InputError("query_messages.correction", outside[0] if outside else table,
                             "only the items of a form recorded item by item can be corrected "
                             "here; edit the visit instead")  # fmt: skip
        merged = {**current, **changes}
        visit, version = int(current["visit_id"]), int(current["version"])
        if table == "clasi_assessments":
            self._uow.clasi.save(visit, clasi_columns_to_form(merged), expected_version=version,
                                 reason=reason)  # fmt: skip
        elif table == "skindex_assessments":  # the domains are scored again from the items
            form = {name[5:]: merged[name] for name in SKINDEX_ITEM_COLUMNS}
            self._uow.skindex.save(visit, form, expected_version=version, reason=reason)
        else:
            form = {name: bool(merged[name]) for name in SLEDAI_ITEM_COLUMNS}
            self._uow.sledai.save(visit, form, expected_version=version, reason=reason)

    # -- reads -------------------------------------------------------------------------------

    def messages(self, query_id: int) -> list[QueryMessageRecord]:
        """The query's thread, oldest first."""
        t = table_of("query_messages")
        rows = self._uow.connection.execute(
            select(t).where(t.c.query_id == query_id).order_by(t.c.id)
        ).mappings()
        return [QueryMessageRecord.from_row(dict(row)) for row in rows]

    def active_on(self, table: str, record_ids: Iterable[int]) -> dict[tuple[int, str], int]:
        """Active (not closed) queries on records of ``table``, counted by (record id, field;
        ``*`` for the whole form): what the pages flag."""
        wanted = list(dict.fromkeys(record_ids))
        if not wanted:
            return {}
        t = self._t
        rows = self._uow.connection.execute(
            select(t.c.record_id, t.c.field, func.count())
            .where(t.c.table_name == table, t.c.record_id.in_(wanted), t.c.status != "closed")
            .group_by(t.c.record_id, t.c.field)
        ).all()  # fmt: skip
        return {(int(r[0]), r[1] or "*"): int(r[2]) for r in rows}

    def listing(
        self,
        *,
        site_ids: Sequence[int] | None = None,
        patient_id: int | None = None,
        form: str | None = None,
        statuses: Sequence[str] | None = None,
        older_than_days: int | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Queries with their patient's study code and site, newest first, filtered by site,
        patient, form (table), status and age (days since raised)."""
        query = self._filtered(_listing_columns(), site_ids, patient_id, form, statuses,
                               older_than_days)  # fmt: skip
        t = self._t
        rows = self._uow.connection.execute(
            query.order_by(t.c.opened_at.desc(), t.c.id.desc()).limit(limit).offset(offset)
        ).mappings()
        return [dict(row) for row in rows]

    def counts(self, *, site_ids: Sequence[int] | None = None) -> dict[str, int]:
        """How many queries are in each status (every status present, 0 when none)."""
        t = self._t
        query = self._filtered(select(t.c.status, func.count()), site_ids, None, None, None,
                               None).group_by(t.c.status)  # fmt: skip
        found = {status: int(n) for status, n in self._uow.connection.execute(query)}
        return {status: found.get(status, 0) for status in QUERY_STATUSES}

    def _filtered(
        self, query: Select[Any], site_ids: Sequence[int] | None, patient_id: int | None,
        form: str | None, statuses: Sequence[str] | None, older_than_days: int | None,
    ) -> Select[Any]:  # fmt: skip
        t, patients = self._t, table_of("patients")
        query = query.select_from(t.join(patients, patients.c.id == t.c.patient_id))
        if site_ids is not None:
            query = query.where(patients.c.site_id.in_(list(site_ids)))
        if patient_id is not None:
            query = query.where(t.c.patient_id == patient_id)
        if form is not None:
            query = query.where(t.c.table_name == form)
        if statuses:
            query = query.where(t.c.status.in_(list(statuses)))
        if older_than_days is not None:
            cutoff = utc_now() - dt.timedelta(days=older_than_days)
            query = query.where(t.c.opened_at <= cutoff)
        return query

    def active_checks(self, patient_ids: Iterable[int]) -> list[QueryRecord]:
        """Queries raised by edit checks for these patients (any status: a monitor's close
        of a finding is kept, not raised again)."""
        rows = self._rows_in("patient_id", patient_ids)
        return [QueryRecord.from_row(row) for row in rows if row["origin"] == "edit_check"]


def _listing_columns() -> Select[Any]:
    t, patients, sites = table_of("queries"), table_of("patients"), table_of("sites")
    site_code = select(sites.c.code).where(sites.c.id == patients.c.site_id).scalar_subquery()
    return select(*t.c, patients.c.study_code, patients.c.site_id, site_code.label("site_code"))


def _past(action: str) -> str:
    return {"acknowledge": "acknowledged", "answer": "answered", "close": "closed",
            "reopen": "reopened", "comment": "commented on"}[action]  # fmt: skip
