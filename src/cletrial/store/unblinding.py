"""Emergency unblinding of a randomised patient, and the listing monitors read.

:func:`unblind_patient` records one unblinding (who, role, the printed name of the e-signature,
when, why) in the caller's unit of work, audited like every change, and returns it with the
patient's arm: the caller shows the arm to that user in that answer only. The arm is never
copied into ``unblindings`` nor its audit rows (it stays in the sealed slot, redacted in the
audit trail). Who may unblind: an investigator (of the patient's site: the caller checks the
scope) in an emergency, with a reason of at least :data:`MIN_REASON` characters. Each
unblinding is recorded, also a second one of the same patient: the record of who knew the arm,
and when, must be complete. :func:`unblindings_of` lists them without arms (for monitors).

>>> from cletrial.randomisation import generate_allocation_list
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> from cletrial.store.randomisation import import_allocation_list, randomise_patient
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
...                                 per_stratum=2, seed=3, environment="test")
>>> with UnitOfWork(engine, user="stats") as uow:
...     _ = import_allocation_list(uow, study.id, plan, environment="test")
>>> with UnitOfWork(engine, user="dr.ruiz") as uow:
...     _ = randomise_patient(uow, p.id, {}, environment="test")
...     done, arm = unblind_patient(uow, p.id, role="investigator", signed_name="Dr Ruiz",
...                                 reason="anaphylaxis: the treatment must be known")
>>> arm == plan.slots[0].arm, done.unblinded_by
(True, 'dr.ruiz')
>>> with UnitOfWork(engine, read_only=True) as uow:
...     [u.reason for u in unblindings_of(uow, [p.id])]
['anaphylaxis: the treatment must be known']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import ClassVar, Final

from sqlalchemy import select

from cletrial.errors import AccessDeniedError, InputError
from cletrial.store.fields import table_of
from cletrial.store.randomisation import randomisation_of
from cletrial.store.records import StoredRecord
from cletrial.store.types import utc_now
from cletrial.store.unit_of_work import UnitOfWork

__all__ = [
    "MIN_REASON",
    "UNBLINDING_ROLES",
    "UnblindingRecord",
    "unblind_patient",
    "unblindings_of",
]

#: Roles that may unblind a patient in an emergency.
UNBLINDING_ROLES: Final = frozenset({"investigator"})
#: The shortest reason accepted, in characters (after trimming).
MIN_REASON: Final = 10


@dataclasses.dataclass(frozen=True, slots=True)
class UnblindingRecord(StoredRecord):
    """An emergency unblinding (never the arm)."""

    table: ClassVar[str] = "unblindings"
    patient_id: int
    randomisation_id: int
    unblinded_by: str
    role: str
    signed_name: str
    unblinded_at: dt.datetime
    reason: str


def unblind_patient(
    uow: UnitOfWork, patient_id: int, *, role: str, signed_name: str, reason: str
) -> tuple[UnblindingRecord, str]:
    """Record an emergency unblinding of a randomised patient; return it and the arm.

    Parameters
    ----------
    uow : UnitOfWork
        The writing unit of work; its user is the one who unblinds (audited).
    patient_id : int
        The patient (the caller has checked the user may see them).
    role : str
        The user's role: one of :data:`UNBLINDING_ROLES`.
    signed_name : str
        The printed name of the e-signature (the caller has checked the password).
    reason : str
        Why the arm must be known, at least :data:`MIN_REASON` characters.

    Raises
    ------
    AccessDeniedError
        The role may not unblind.
    InputError
        A blank or short reason (``reason``).
    NotFoundError
        The patient is not randomised.
    """
    if role not in UNBLINDING_ROLES:
        raise AccessDeniedError(
            f"role {role!r} may not unblind a patient: only "
            f"{', '.join(sorted(UNBLINDING_ROLES))} may, in an emergency"
        )
    why = (reason or "").strip()
    if len(why) < MIN_REASON:
        raise InputError("reason", reason, f"give the reason (at least {MIN_REASON} characters): "
                         "why the treatment must be known")  # fmt: skip
    found = randomisation_of(uow, patient_id)
    row = uow.insert("unblindings", {
        "patient_id": patient_id, "randomisation_id": found.id, "unblinded_by": uow.user,
        "role": role, "signed_name": signed_name, "unblinded_at": utc_now(), "reason": why,
    })  # fmt: skip
    arm = str(uow.get("allocation_slots", found.slot_id)["arm"])
    return UnblindingRecord.from_row(row), arm


def unblindings_of(uow: UnitOfWork, patient_ids: Sequence[int]) -> list[UnblindingRecord]:
    """Every unblinding of these patients, oldest first (no arm)."""
    if not patient_ids:
        return []
    t = table_of("unblindings")
    rows = uow.connection.execute(
        select(t).where(t.c.patient_id.in_(list(patient_ids))).order_by(t.c.id)
    ).mappings()
    return [UnblindingRecord.from_row(dict(row)) for row in rows]
