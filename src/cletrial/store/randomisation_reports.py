"""Reads of the sealed allocation lists: the slots, a patient's arm, the balance by stratum and
arm, and the allocation audit listing.

Every read takes the reader's ``role``. The slots and the arms are returned only to an
unblinded role (:data:`cletrial.store.randomisation.UNBLINDED_ROLES`); any other role gets an
:class:`~cletrial.errors.AccessDeniedError` for the slots and the arm, and the balance and the
listing without arms (counts by stratum, treatment codes).

>>> from cletrial.store import create_engine_for, upgrade, UnitOfWork
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, read_only=True) as uow:
...     read_slots(uow, 1, role="investigator")
Traceback (most recent call last):
...
cletrial.errors.AccessDeniedError: role 'investigator' may not read the slots ...
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from cletrial.store.audit import audit_log
from cletrial.store.fields import table_of
from cletrial.store.randomisation import (
    UNBLINDED_ROLES,
    active_list,
    randomisation_of,
    require_unblinded,
)
from cletrial.store.unit_of_work import UnitOfWork

__all__ = [
    "BalanceLine",
    "ListingLine",
    "SlotView",
    "allocation_listing",
    "arm_of",
    "balance",
    "read_slots",
]


@dataclasses.dataclass(frozen=True, slots=True)
class SlotView:
    """A slot of a list as an unblinded reader sees it."""

    stratum: str
    sequence: int
    block: int
    block_size: int
    arm: str
    code: str
    patient_id: int | None
    allocated_by: str | None
    allocated_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class BalanceLine:
    """One stratum: its slots, how many are allocated, and (unblinded only) by arm."""

    stratum: str
    slots: int
    allocated: int
    by_arm: dict[str, int] | None


@dataclasses.dataclass(frozen=True, slots=True)
class ListingLine:
    """One randomisation in the allocation audit listing (``arm`` for unblinded roles only)."""

    study_code: str
    site_code: str
    stratum: str
    sequence: int
    code: str
    arm: str | None
    randomised_by: str
    randomised_at: dt.datetime
    reason: str | None
    audit_ids: tuple[int, ...]


def read_slots(uow: UnitOfWork, list_id: int, *, role: str) -> list[SlotView]:
    """Every slot of a list, by stratum and sequence (unblinded roles only)."""
    require_unblinded(role, "the slots of an allocation list")
    slots = table_of("allocation_slots")
    rows = uow.connection.execute(
        select(slots).where(slots.c.list_id == list_id).order_by(slots.c.id)
    ).mappings()
    names = [f.name for f in dataclasses.fields(SlotView)]
    return [SlotView(**{n: row[n] for n in names}) for row in rows]


def arm_of(uow: UnitOfWork, patient_id: int, *, role: str) -> str:
    """The arm of a randomised patient (unblinded roles only; NotFoundError if none)."""
    require_unblinded(role, "the arm of a patient")
    found = randomisation_of(uow, patient_id)
    return str(uow.get("allocation_slots", found.slot_id)["arm"])


def balance(uow: UnitOfWork, study_id: int, *, environment: str, role: str) -> list[BalanceLine]:
    """Slots and allocations by stratum of the study's list; by arm for unblinded roles.

    Every stratum of the list appears, in the list's order, even with nothing allocated.
    """
    listed = active_list(uow, study_id, environment)
    arms = [name for name, _ in json.loads(listed.arms_json)]
    slots = table_of("allocation_slots")
    rows = uow.connection.execute(
        select(slots.c.stratum, slots.c.arm, slots.c.patient_id)
        .where(slots.c.list_id == listed.id)
        .order_by(slots.c.id)
    ).all()
    lines: dict[str, dict[str, Any]] = {}
    for stratum, arm, patient in rows:
        line = lines.setdefault(
            stratum, {"slots": 0, "allocated": 0, "arms": dict.fromkeys(arms, 0)}
        )
        line["slots"] += 1
        if patient is not None:
            line["allocated"] += 1
            line["arms"][arm] += 1
    unblinded = role in UNBLINDED_ROLES
    return [
        BalanceLine(stratum, v["slots"], v["allocated"], v["arms"] if unblinded else None)
        for stratum, v in lines.items()
    ]


def allocation_listing(
    uow: UnitOfWork, study_id: int, *, environment: str, role: str
) -> list[ListingLine]:
    """Every randomisation from the study's list, in order, with the ids of its audit rows.

    The arm is given to unblinded roles only (``None`` otherwise).
    """
    listed = active_list(uow, study_id, environment)
    r, s = table_of("randomisations"), table_of("allocation_slots")
    p, site = table_of("patients"), table_of("sites")
    query = (
        select(r, s.c.sequence, s.c.arm, p.c.study_code, site.c.code.label("site_code"))
        .join(s, s.c.id == r.c.slot_id)
        .join(p, p.c.id == r.c.patient_id)
        .join(site, site.c.id == p.c.site_id)
        .where(r.c.list_id == listed.id)
        .order_by(r.c.id)
    )
    unblinded = role in UNBLINDED_ROLES
    out = []
    for row in uow.connection.execute(query).mappings():
        audit = uow.connection.execute(
            select(audit_log.c.id)
            .where(
                (
                    (audit_log.c.table_name == "randomisations")
                    & (audit_log.c.record_id == row["id"])
                )
                | (
                    (audit_log.c.table_name == "allocation_slots")
                    & (audit_log.c.record_id == row["slot_id"])
                    & (audit_log.c.action == "UPDATE")
                )
            )
            .order_by(audit_log.c.id)
        ).scalars()
        out.append(
            ListingLine(
                row["study_code"],
                row["site_code"],
                row["stratum"],
                row["sequence"],
                row["code"],
                row["arm"] if unblinded else None,
                row["randomised_by"],
                row["randomised_at"],
                row["reason"],
                tuple(int(a) for a in audit),
            )
        )
    return out
