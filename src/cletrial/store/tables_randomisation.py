"""The randomisation tables: imported allocation lists, their slots, and the randomisations.

* ``allocation_lists``: one row per imported list of a study (``test`` or ``production``), with
  the SHA-256 of its canonical JSON (unique: the same list is never imported twice), who
  imported it and when, its design (strata and arms as JSON) and ``sealed`` (slots readable
  only by unblinded roles).
* ``allocation_slots``: one row per slot: the stratum, its sequence number, block and block
  size, the ``arm`` and the treatment (kit) ``code`` kept apart so the code can be shown while
  the arm stays hidden; ``patient_id`` is null until the slot is allocated (then unique).
  The arm is shown as ``[redacted]`` in the audit trail (the list's SHA-256 vouches for it).
* ``randomisations``: one row per randomised patient (unique), naming its slot (unique), the
  stratum, who randomised, when and why.
* ``unblindings``: one row per emergency unblinding of a patient (a patient may be unblinded
  more than once; each is recorded): the randomisation, who (role and printed name of the
  e-signature), when and why. The arm is not stored here: it stays in the sealed slot.

>>> sorted(t for t in Base.metadata.tables if "alloc" in t or t in ("randomisations",
...                                                                      "unblindings"))
['allocation_lists', 'allocation_slots', 'randomisations', 'unblindings']
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cletrial.store.tables_base import NO_REUSE, Base, Versioned
from cletrial.store.types import UTCDateTime

__all__ = ["AllocationListRow", "AllocationSlotRow", "RandomisationRow", "UnblindingRow"]


class AllocationListRow(Versioned, Base):
    """An imported allocation list (see the module's description)."""

    __tablename__ = "allocation_lists"
    __table_args__ = (UniqueConstraint("study_id", "list_code"), NO_REUSE)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    list_code: Mapped[str] = mapped_column(String(40))
    environment: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    strata_json: Mapped[str] = mapped_column(Text)
    arms_json: Mapped[str] = mapped_column(Text)
    slot_count: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bool] = mapped_column(Boolean)
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AllocationSlotRow(Versioned, Base):
    """One slot of an allocation list; ``patient_id`` once allocated."""

    __tablename__ = "allocation_slots"
    __table_args__ = (
        UniqueConstraint("list_id", "stratum", "sequence"),
        UniqueConstraint("list_id", "code"),
        Index("ix_allocation_slots_free", "list_id", "stratum", "patient_id"),
        NO_REUSE,
    )
    list_id: Mapped[int] = mapped_column(ForeignKey("allocation_lists.id"))
    stratum: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(Integer)
    block: Mapped[int] = mapped_column(Integer)
    block_size: Mapped[int] = mapped_column(Integer)
    arm: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), unique=True)
    allocated_by: Mapped[str | None] = mapped_column(String(80))
    allocated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RandomisationRow(Versioned, Base):
    """The randomisation of one patient: the slot taken, who, when, why."""

    __tablename__ = "randomisations"
    __table_args__ = (NO_REUSE,)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("allocation_slots.id"), unique=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("allocation_lists.id"), index=True)
    stratum: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(40))
    randomised_by: Mapped[str] = mapped_column(String(80))
    randomised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class UnblindingRow(Versioned, Base):
    """An emergency unblinding of a patient: who (role, e-signed name), when, why."""

    __tablename__ = "unblindings"
    __table_args__ = (NO_REUSE,)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    randomisation_id: Mapped[int] = mapped_column(ForeignKey("randomisations.id"))
    unblinded_by: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(40))
    signed_name: Mapped[str] = mapped_column(String(200))
    unblinded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
