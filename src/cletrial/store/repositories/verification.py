"""Source data verification marks and the database lock.

A monitor marks a form (``field`` ``*``) or one field verified against the source documents;
the mark keeps the record's version, and a later change of the value deletes it with a reason
(:mod:`cletrial.store.monitoring_rules`). :meth:`SdvRepository.progress` counts the forms a
risk-based plan requires (every record of some forms, a reproducible sample of the others) and
how many are verified, by site, patient or form.

The database is ``open``, ``frozen`` (no clinical change; queries and verification go on) or
``locked`` (nothing changes); each freeze, unfreeze, lock and unlock is an e-signed event with
its reason (:class:`LockRepository`).

>>> import datetime as dt
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="coord") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01", sex="F")
...     s = uow.screenings.save(p.id, screening_date=dt.date(2024, 1, 10), record={},
...                             verdict="eligible")
...     ae = uow.adverse_events.add(patient_id=p.id, term="headache", grade=1,
...                                 start_date=dt.date(2024, 1, 20), causality="unlikely",
...                                 serious=False)
>>> with UnitOfWork(engine, user="mon") as uow:
...     mark = uow.sdv.verify("adverse_events", ae.id)
...     [(r["form"], r["required"], r["verified"]) for r in uow.sdv.progress(by="form")]
[('adverse_events', 1, 1), ('screenings', 1, 0)]
>>> with UnitOfWork(engine, user="coord") as uow:
...     _ = uow.adverse_events.update(ae.id, expected_version=1, grade=2, reason="source: G2")
...     uow.sdv.for_patient(p.id)
[]
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from sqlalchemy import select, text

from cletrial.errors import InputError
from cletrial.protocol.definition_model import SDV_FORMS
from cletrial.store.engine import is_sqlite
from cletrial.store.fields import field_specs, table_of
from cletrial.store.records_monitoring import LockEventRecord, SdvMarkRecord
from cletrial.store.repositories.base import PatientRecords, Repository
from cletrial.store.repositories.queries import patient_of_record
from cletrial.store.tables_forms import BY_VISIT
from cletrial.store.tables_monitoring import WHOLE_FORM
from cletrial.store.types import utc_now

__all__ = ["LOCK_TRANSITIONS", "SDV_FORMS", "LockRepository", "SdvPlan", "SdvRepository"]


#: Lock action -> (states it may follow, state after).
LOCK_TRANSITIONS: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "freeze": (("open",), "frozen"),
    "unfreeze": (("frozen",), "open"),
    "lock": (("open", "frozen"), "locked"),
    "unlock": (("locked",), "open"),
}


@dataclass(frozen=True)
class SdvPlan:
    """A risk-based verification plan: every record of the ``full`` forms, and the fraction
    ``sample`` of the records of the other forms (chosen reproducibly from the record's id)."""

    full: frozenset[str] = field(default_factory=lambda: frozenset(SDV_FORMS))
    sample: float = 0.0

    def requires(self, table: str, record_id: int) -> bool:
        """Whether the plan requires verifying this record.

        >>> plan = SdvPlan(full=frozenset({"doses"}), sample=0.25)
        >>> plan.requires("doses", 7), sum(plan.requires("labs", i) for i in range(1000))
        (True, 263)
        """
        if table in self.full:
            return True
        if self.sample <= 0:
            return False
        return zlib.crc32(f"{table}:{record_id}".encode()) % 10_000 < self.sample * 10_000


class SdvRepository(PatientRecords[SdvMarkRecord]):
    """Source data verification marks."""

    table = "sdv_marks"
    record = SdvMarkRecord
    order_by = ("patient_id", "table_name", "record_id", "field")

    def verify(self, table: str, record_id: int, field: str = WHOLE_FORM) -> SdvMarkRecord:
        """Mark a form (``field`` ``*``) or one field verified at its current version (a mark
        already there is returned as it is).

        Raises
        ------
        InputError
            A table that is not a form, or a field it does not have.
        NotFoundError
            No such record.
        """
        if table not in SDV_FORMS:
            raise InputError(
                "sdv_marks.table_name",
                table,
                f"is not a form verified against the source ({', '.join(SDV_FORMS)})",
            )
        if field != WHOLE_FORM and field not in field_specs(table):
            raise InputError("sdv_marks.field", field, f"is not a field of {table}")
        found = self._find(table_name=table, record_id=record_id, field=field)
        if found is not None:
            return found
        patient_id = patient_of_record(self._uow, table, record_id)
        version = int(self._uow.get(table, record_id)["version"])
        return self._create({
            "patient_id": patient_id, "table_name": table, "record_id": record_id,
            "field": field, "record_version": version, "verified_by": self._uow.user,
            "verified_at": utc_now(),
        })  # fmt: skip

    def unverify(self, mark_id: int, *, expected_version: int, reason: str) -> None:
        """Withdraw a mark, with the reason (audited)."""
        if not reason or not reason.strip():
            raise InputError("sdv_marks.reason", reason, "is required to withdraw a verification")
        self.delete(mark_id, expected_version=expected_version, reason=reason.strip())

    def on_records(self, table: str, record_ids: Collection[int]) -> dict[tuple[int, str], Any]:
        """Marks on these records of ``table``, by (record id, field)."""
        if not record_ids:
            return {}
        t = self._t
        rows = self._uow.connection.execute(
            select(t).where(t.c.table_name == table, t.c.record_id.in_(list(record_ids)))
        ).mappings()
        return {(int(r["record_id"]), r["field"]): SdvMarkRecord.from_row(dict(r)) for r in rows}

    def progress(
        self,
        *,
        by: Literal["site", "patient", "form"] = "form",
        plan: SdvPlan | None = None,
        site_ids: Collection[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Forms required by ``plan`` (default: every form) and how many are verified as a
        whole, grouped ``by`` site (code), patient (study code) or form; sorted by the group.

        Each row: the group (``site``, ``patient`` or ``form``), ``required``, ``verified``,
        ``percent`` (``None`` when nothing is required)."""
        plan = plan or SdvPlan()
        verified = self._verified_forms()
        groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for table in SDV_FORMS:
            for record_id, patient, site in self._form_owners(table, site_ids):
                if not plan.requires(table, record_id):
                    continue
                key = {"site": site, "patient": patient, "form": table}[by]
                counts = groups[key]
                counts[0] += 1
                counts[1] += (table, record_id) in verified
        return [
            {by: key, "required": n, "verified": done,
             "percent": None if n == 0 else round(100 * done / n, 1)}
            for key, (n, done) in sorted(groups.items())
        ]  # fmt: skip

    def _verified_forms(self) -> set[tuple[str, int]]:
        t = self._t
        rows = self._uow.connection.execute(
            select(t.c.table_name, t.c.record_id).where(t.c.field == WHOLE_FORM)
        )
        return {(r[0], int(r[1])) for r in rows}

    def _form_owners(
        self, table: str, site_ids: Collection[int] | None
    ) -> list[tuple[int, str, str]]:
        """(record id, patient's study code, site code) of every record of ``table``."""
        t, patients, sites = table_of(table), table_of("patients"), table_of("sites")
        if table in BY_VISIT:
            visits = table_of("visits")
            source = t.join(visits, visits.c.id == t.c.visit_id).join(
                patients, patients.c.id == visits.c.patient_id
            )
        else:
            source = t.join(patients, patients.c.id == t.c.patient_id)
        query = select(t.c.id, patients.c.study_code, sites.c.code).select_from(
            source.join(sites, sites.c.id == patients.c.site_id)
        )
        if site_ids is not None:
            query = query.where(patients.c.site_id.in_(list(site_ids)))
        return [(int(r[0]), r[1], r[2]) for r in self._uow.connection.execute(query)]


class LockRepository(Repository[LockEventRecord]):
    """The freeze and lock of the database: e-signed events, the last one gives the state."""

    table = "lock_events"
    record = LockEventRecord

    def state(self) -> tuple[str, str]:
        """The database's state (``open``, ``frozen``, ``locked``) and since when (ISO)."""
        return self._uow.monitoring_rules.state()

    def events(self) -> list[LockEventRecord]:
        """Every lock event, oldest first."""
        return self._list()

    def apply(self, action: str, *, reason: str, signed_name: str) -> LockEventRecord:
        """Freeze, unfreeze, lock or unlock the database (the caller checks the data manager's
        role and password re-entry); return the event.

        Raises
        ------
        InputError
            An unknown action, one that does not follow the current state, no reason or no
            printed name.
        """
        rule = LOCK_TRANSITIONS.get(action)
        if rule is None:
            raise InputError("lock_events.action", action,
                             f"must be one of {', '.join(LOCK_TRANSITIONS)}")  # fmt: skip
        if not reason or not reason.strip():
            raise InputError("lock_events.reason", reason, f"is required to {action}")
        if not signed_name or not signed_name.strip():
            raise InputError("lock_events.signed_name", signed_name,
                             "is required: the data manager's printed name")  # fmt: skip
        conn = self._uow.connection
        if not is_sqlite(conn):
            conn.execute(text("LOCK TABLE lock_events IN EXCLUSIVE MODE"))
        self._uow.monitoring_rules.forget()
        state, _since = self.state()
        before, after = rule
        if state not in before:
            raise InputError("lock_events.action", action,
                             f"the database is {state}: {action} needs it "
                             f"{' or '.join(before)}")  # fmt: skip
        return self._create({
            "action": action, "state_after": after, "reason": reason.strip(),
            "signed_by": self._uow.user, "signed_name": signed_name.strip(),
            "signed_at": utc_now(),
        })  # fmt: skip
