"""Randomisation in the study database: import an allocation list sealed, allocate its slots.

* :func:`import_allocation_list` writes a checked list (:class:`cletrial.randomisation.
  AllocationList`) and every slot in one unit of work, each row audited, with the SHA-256 of
  the list's canonical JSON. The same list (same SHA-256) is refused, and so is a second
  ``production`` list for a study.
* :func:`randomise_patient` gives a patient the next free slot of their stratum, atomically:
  only when the enrolment gate lets the patient in (an ``eligible`` screening verdict or an
  override, :func:`cletrial.protocol.enrolment.enrolment_refusal`), consent stands (the store
  records no consent form: a recorded screening, and no ``consent_withdrawn`` event nor end of
  study), the patient is not yet randomised and their stratum values are valid. On PostgreSQL
  the slot is taken with ``SELECT ... FOR UPDATE SKIP LOCKED`` (concurrent randomisations of a
  stratum take distinct slots without waiting for each other); on SQLite every writing unit of
  work holds the database's write lock from its first statement (``BEGIN IMMEDIATE``). The
  unique keys (one slot a patient, one patient a slot) hold in any case.
* Reading slots and arms needs an unblinded role (:data:`UNBLINDED_ROLES`): the arm is never
  returned to a site role (:mod:`cletrial.store.randomisation_reports`).

>>> from cletrial.randomisation import generate_allocation_list
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> import datetime as dt
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="setup") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="01", name="Site 01")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01")
...     _ = uow.screenings.save(p.id, screening_date=dt.date(2024, 1, 10), record={},
...                             verdict="eligible")
>>> plan = generate_allocation_list({"site": ["01"]}, {"A": 1, "B": 1}, block_sizes=[2],
...                                 per_stratum=4, seed=3, environment="test")
>>> with UnitOfWork(engine, user="stats") as uow:
...     imported = import_allocation_list(uow, study.id, plan, environment="test")
>>> imported.sha256 == plan.sha256, imported.slot_count
(True, 4)
>>> with UnitOfWork(engine, user="dr.ruiz") as uow:
...     done = randomise_patient(uow, p.id, {}, environment="test", reason="eligible, consented")
>>> done.code == plan.slots[0].code, done.stratum
(True, 'site=01')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar, Final

from sqlalchemy import func, select

from cletrial.errors import AccessDeniedError, InputError, NotFoundError
from cletrial.protocol.enrolment import enrolment_refusal
from cletrial.randomisation.model import ENVIRONMENTS, AllocationList, Strata, stratum_key
from cletrial.store.engine import is_sqlite
from cletrial.store.fields import canonical_json, table_of
from cletrial.store.records import StoredRecord
from cletrial.store.types import utc_now
from cletrial.store.unit_of_work import UnitOfWork

__all__ = [
    "RANDOMISING_ROLES",
    "UNBLINDED_ROLES",
    "AllocationListRecord",
    "RandomisationRecord",
    "active_list",
    "import_allocation_list",
    "list_strata",
    "randomise_patient",
    "require_unblinded",
]

#: Roles that may read the slots of a sealed list and the arm of a randomised patient.
UNBLINDED_ROLES: Final = frozenset({"statistician"})
#: Roles that may randomise a patient.
RANDOMISING_ROLES: Final = frozenset({"investigator"})


@dataclasses.dataclass(frozen=True, slots=True)
class AllocationListRecord(StoredRecord):
    """An imported allocation list (its slots are read through an unblinded role only)."""

    table: ClassVar[str] = "allocation_lists"
    study_id: int
    list_code: str
    environment: str
    sha256: str
    strata_json: str
    arms_json: str
    slot_count: int
    sealed: bool
    imported_by: str
    imported_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class RandomisationRecord(StoredRecord):
    """A patient's randomisation: the slot and treatment code, never the arm."""

    table: ClassVar[str] = "randomisations"
    patient_id: int
    slot_id: int
    list_id: int
    stratum: str
    code: str
    randomised_by: str
    randomised_at: dt.datetime
    reason: str | None


def require_unblinded(role: str, what: str) -> None:
    """Refuse (:class:`AccessDeniedError`) a role that may not read ``what`` (sealed)."""
    if role not in UNBLINDED_ROLES:
        raise AccessDeniedError(
            f"role {role!r} may not read {what}: the allocation list is sealed; only "
            f"{', '.join(sorted(UNBLINDED_ROLES))} may"
        )


def _environment(environment: str) -> str:
    if environment not in ENVIRONMENTS:
        raise InputError("environment", environment, "must be test or production")
    return environment


@cache
def _bundled(protocol_id: str) -> Any:
    """The bundled protocol definition ``protocol_id``, loaded once per process (the bundled
    files do not change while it runs); ``None`` for a protocol given by path, whose arms
    cannot be read here."""
    from cletrial.protocol import list_protocols, load_protocol

    return load_protocol(protocol_id) if protocol_id in list_protocols() else None


def _check_arms(protocol_id: str, allocation: AllocationList) -> None:
    """Refuse a list whose arms are not those of the study's (bundled) randomised protocol."""
    protocol = _bundled(protocol_id)
    if protocol is None:
        return
    arms = sorted(a.id for a in protocol.file.arms)
    given = sorted(a.id for a in allocation.arms)
    if arms and given != arms:
        problem = f"must be the arms of the study's protocol {protocol_id}: {', '.join(arms)}"
        raise InputError("arms", given, problem)


def _check_new_list(
    uow: UnitOfWork, study_id: int, allocation: AllocationList, environment: str
) -> None:
    """Refuse another environment than the list's, a list already imported, a second
    production list for the study."""
    _environment(environment)
    if allocation.environment != environment:
        raise InputError(
            "environment",
            environment,
            f"the list {allocation.list_id} is a {allocation.environment} list",
        )
    study = uow.get("studies", study_id, lock=True)  # concurrent imports queue here
    _check_arms(str(study["protocol_id"]), allocation)
    lists = table_of("allocation_lists")
    digest = allocation.sha256
    if uow.find("allocation_lists", sha256=digest) is not None:
        raise InputError("sha256", digest, "this allocation list is already imported")
    if (
        environment == "production"
        and uow.connection.execute(
            select(lists.c.list_code).where(
                lists.c.study_id == study_id, lists.c.environment == "production"
            )
        ).first()
    ):
        raise InputError(
            "environment",
            environment,
            f"studies {study_id} already has a production allocation list; a second one is refused",
        )


def import_allocation_list(
    uow: UnitOfWork, study_id: int, allocation: AllocationList, *, environment: str
) -> AllocationListRecord:
    """Write ``allocation`` and its slots, sealed, in the unit of work (committed with it).

    Parameters
    ----------
    uow : UnitOfWork
        The writing unit of work (its user is recorded as the importer and in every audit row).
    study_id : int
        The study the list is for.
    allocation : AllocationList
        A checked list (:meth:`AllocationList.from_json`).
    environment : str
        ``test`` or ``production``: must be the list's own (a guard against importing a test
        list as the production one).

    Raises
    ------
    InputError
        Another environment than the list's; a list with the same SHA-256 or the same id
        already imported; a second production list for the study.
    NotFoundError
        No such study.
    """
    _check_new_list(uow, study_id, allocation, environment)
    digest = allocation.sha256
    row = uow.insert(
        "allocation_lists",
        {
            "study_id": study_id,
            "list_code": allocation.list_id,
            "environment": environment,
            "sha256": digest,
            "strata_json": canonical_json([[n, list(levels)] for n, levels in allocation.strata]),
            "arms_json": canonical_json([[a.id, a.ratio] for a in allocation.arms]),
            "slot_count": len(allocation.slots),
            "sealed": True,
            "imported_by": uow.user,
            "imported_at": utc_now(),
        },
    )
    for slot in allocation.slots:
        uow.insert(
            "allocation_slots",
            {
                "list_id": row["id"],
                "stratum": slot.stratum,
                "sequence": slot.sequence,
                "block": slot.block,
                "block_size": slot.block_size,
                "arm": slot.arm,
                "code": slot.code,
            },
        )
    return AllocationListRecord.from_row(row)


def active_list(uow: UnitOfWork, study_id: int, environment: str) -> AllocationListRecord:
    """The study's list of ``environment`` (the newest imported, for test lists).

    Raises
    ------
    InputError
        The study has no list of that environment.
    """
    lists = table_of("allocation_lists")
    row = (
        uow.connection.execute(
            select(lists)
            .where(lists.c.study_id == study_id, lists.c.environment == _environment(environment))
            .order_by(lists.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise InputError(
            "environment",
            environment,
            f"studies {study_id} has no {environment} allocation list: import one "
            "first (cletrial randomisation import)",
        )
    return AllocationListRecord.from_row(dict(row))


def list_strata(record: AllocationListRecord) -> Strata:
    """The stratification factors and levels of an imported list."""
    return tuple((name, tuple(levels)) for name, levels in json.loads(record.strata_json))


def _check_in_response(uow: UnitOfWork, patient: Mapping[str, Any]) -> None:
    """A randomised withdrawal (a bundled protocol whose ``blinding.design`` says so)
    randomises only a patient in complete response today, as the protocol engine replays the
    patient's course: a complete response in the current cycle and no stop."""
    from cletrial.protocol import recommend
    from cletrial.store.capture_rules import compute_study_today
    from cletrial.store.history_export import export_patient_history

    study = uow.get("studies", int(patient["study_id"]))
    protocol = _bundled(str(study["protocol_id"]))
    blinding = None if protocol is None else protocol.file.blinding
    if blinding is None or blinding.design != "randomised_withdrawal":
        return
    today = compute_study_today(study["time_zone"])
    course = recommend(export_patient_history(uow, int(patient["id"])), protocol, on=today).course
    if course.complete_response_date is None or course.stop_date is not None:
        raise InputError(
            "course.phase",
            course.phase,
            f"{protocol.id} randomises patients in complete response (CLASI-A "
            f"<= {protocol.file.response.complete_response_max} in the current cycle, no stop): "
            "record the visit of the response first",
        )


def _check_patient(uow: UnitOfWork, patient: Mapping[str, Any]) -> None:
    """Refuse a patient the enrolment gate keeps out, without consent, or randomised."""
    pid = int(patient["id"])
    screening = uow.find("screenings", patient_id=pid)
    overridden = uow.find("enrolment_overrides", patient_id=pid) is not None
    refusal = enrolment_refusal(None if screening is None else screening["verdict"], overridden)
    if refusal is not None:
        verdict = None if screening is None else screening["verdict"]
        raise InputError("screenings.verdict", verdict, f"not eligible: {refusal}")
    events = table_of("patient_events")
    withdrawn = uow.connection.execute(
        select(events.c.event_date).where(
            events.c.patient_id == pid, events.c.event_type == "consent_withdrawn"
        )
    ).first()
    if withdrawn is not None:
        raise InputError(
            "patient_events.event_type",
            "consent_withdrawn",
            f"consent was withdrawn on {withdrawn[0]}: the patient cannot be randomised",
        )
    if uow.find("dispositions", patient_id=pid, kind="end_of_study") is not None:
        raise InputError(
            "dispositions.kind",
            "end_of_study",
            "the patient's study has ended: the patient cannot be randomised",
        )
    done = uow.find("randomisations", patient_id=pid)
    if done is not None:
        raise InputError(
            "randomisations.patient_id",
            pid,
            f"the patient is already randomised (treatment code {done['code']}, "
            f"{done['randomised_at']:%Y-%m-%d}); a patient is randomised once",
        )


def _stratum(
    uow: UnitOfWork, patient: Mapping[str, Any], strata: Strata, values: Mapping[str, str]
) -> str:
    """The patient's stratum key; a ``site`` factor is the patient's site code."""
    given = dict(values)
    if any(name == "site" for name, _ in strata):
        site = uow.get("sites", int(patient["site_id"]))["code"]
        if given.setdefault("site", site) != site:
            raise InputError("strata.site", given["site"], f"must be the patient's site, {site}")
    return stratum_key(strata, given)


def _take_slot(uow: UnitOfWork, list_id: int, stratum: str) -> dict[str, Any]:
    """Lock and return the next free slot of ``stratum`` (lowest sequence not being taken)."""
    slots = table_of("allocation_slots")
    query = (
        select(slots.c.id, slots.c.version)
        .where(slots.c.list_id == list_id, slots.c.stratum == stratum, slots.c.patient_id.is_(None))
        .order_by(slots.c.sequence)
        .limit(1)
    )
    if not is_sqlite(uow.connection):
        query = query.with_for_update(skip_locked=True)
    free = uow.connection.execute(query).first()
    if free is None:
        used = uow.connection.execute(
            select(func.count()).where(slots.c.list_id == list_id, slots.c.stratum == stratum)
        ).scalar_one()
        raise InputError(
            "strata",
            stratum,
            f"the allocation list has no free slot left in this stratum (all "
            f"{used} used): ask the trial statistician for a new list",
        )
    return {"id": int(free.id), "version": int(free.version)}


def randomise_patient(
    uow: UnitOfWork,
    patient_id: int,
    strata: Mapping[str, str],
    *,
    environment: str,
    reason: str | None = None,
) -> RandomisationRecord:
    """Randomise a patient: take the next free slot of their stratum (see the module).

    Parameters
    ----------
    uow : UnitOfWork
        The writing unit of work; its user is the one who randomises (audited).
    patient_id : int
        The patient.
    strata : mapping of str to str
        The patient's level of each stratification factor of the list (``site`` may be left
        out: it is the patient's site code).
    environment : str
        ``test`` or ``production``: which of the study's lists to allocate from.
    reason : str, optional
        Recorded with the randomisation and in the audit rows.

    Returns
    -------
    RandomisationRecord
        The slot and its treatment code (never the arm).

    Raises
    ------
    InputError
        The patient is not eligible, has withdrawn consent, ended the study or is already
        randomised; in a randomised withdrawal, not in complete response; a stratum value is
        missing or unknown; no list of ``environment``; the stratum's slots are all used. Each
        names the field and the value.
    NotFoundError
        No such patient.
    """
    patient = uow.get("patients", patient_id, lock=True)  # one randomisation a patient at once
    listed = active_list(uow, int(patient["study_id"]), environment)
    _check_patient(uow, patient)
    _check_in_response(uow, patient)
    stratum = _stratum(uow, patient, list_strata(listed), strata)
    slot = _take_slot(uow, listed.id, stratum)
    now, why = utc_now(), reason.strip() if reason and reason.strip() else None
    taken = uow.update(
        "allocation_slots",
        slot["id"],
        {
            "patient_id": patient_id,
            "allocated_by": uow.user,
            "allocated_at": now,
        },
        expected_version=slot["version"],
        reason=why or "randomisation",
        system=True,
    )
    row = uow.insert(
        "randomisations",
        {
            "patient_id": patient_id,
            "slot_id": slot["id"],
            "list_id": listed.id,
            "stratum": stratum,
            "code": taken["code"],
            "randomised_by": uow.user,
            "randomised_at": now,
            "reason": why,
        },
    )
    return RandomisationRecord.from_row(row)


def randomisation_of(uow: UnitOfWork, patient_id: int) -> RandomisationRecord:
    """The patient's randomisation (code and slot; never the arm).

    Raises
    ------
    NotFoundError
        The patient is not randomised.
    """
    row = uow.find("randomisations", patient_id=patient_id)
    if row is None:
        raise NotFoundError(f"patients {patient_id}: not randomised")
    return RandomisationRecord.from_row(row)
