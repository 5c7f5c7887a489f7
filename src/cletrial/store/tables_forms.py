"""CLASI and SLEDAI-2K forms stored item by item, with their computed scores.

A CLASI form has one column per item: ``<region>_<item>`` for the 13 regions (the scalp has no
``scarring`` item; scalp scarring is ``scarring_alopecia``) and the once-per-form items. When
only published scores are known (``entry == "scores"``) the item columns are empty (missing, not
zero). SLEDAI-2K has one boolean column per descriptor, plus the two drug-attribution flags.
A Skindex-29+3 form has one column per item *number* (``item_1`` ... ``item_33``, response 1-5,
empty = not answered; never the copyrighted item text) and its four domain scores (0-100, empty
when too few items of the domain are answered). The CLA-IGA grade is a column of the visit.

>>> CLASI_ITEM_COLUMNS[:3]
('scalp_erythema', 'scalp_scale', 'scalp_dyspigmentation')
>>> len(CLASI_ITEM_COLUMNS), len(SLEDAI_ITEM_COLUMNS), SKINDEX_ITEM_COLUMNS[-1]
(56, 26, 'item_33')
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Boolean, Float, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from cletrial.instruments.clasi import CLASI_REGIONS, FORM_ITEM_CHOICES, REGION_ITEM_CHOICES
from cletrial.instruments.skindex import SKINDEX_ITEMS
from cletrial.instruments.sledai import DRUG_EXCLUSIONS, SLEDAI_WEIGHTS
from cletrial.store.tables_base import Base, Versioned
from cletrial.vocabulary import SKINDEX_DOMAIN

__all__ = [
    "BY_VISIT",
    "CLASI_FORM_ITEMS",
    "CLASI_ITEM_COLUMNS",
    "CLASI_REGION_ITEMS",
    "FORM_ITEM_COLUMNS",
    "SKINDEX_DOMAIN_COLUMNS",
    "SKINDEX_ITEM_COLUMNS",
    "SLEDAI_ITEM_COLUMNS",
    "ClasiAssessment",
    "SkindexAssessment",
    "SledaiAssessment",
    "clasi_region_items",
]

#: Form tables whose records belong to a visit (``visit_id``), not directly to a patient.
BY_VISIT: Final = frozenset({"clasi_assessments", "sledai_assessments", "skindex_assessments"})

#: Regions in CLASI form order (the instrument's own list).
CLASI_REGION_KEYS: Final = CLASI_REGIONS

#: Items scored in each region (the scalp has no ``scarring``).
CLASI_REGION_ITEMS: Final = tuple(REGION_ITEM_CHOICES)

#: Integer items scored once per form.
CLASI_FORM_ITEMS: Final = tuple(FORM_ITEM_CHOICES)


def clasi_region_items(region: str) -> tuple[str, ...]:
    """Return the items of a CLASI region.

    >>> clasi_region_items("scalp")
    ('erythema', 'scale', 'dyspigmentation')
    """
    return CLASI_REGION_ITEMS[:3] if region == "scalp" else CLASI_REGION_ITEMS


#: Every CLASI item column, in form order; the last is the boolean ``dyspigmentation_persistent``.
CLASI_ITEM_COLUMNS: Final = (
    *(f"{r}_{i}" for r in CLASI_REGION_KEYS for i in clasi_region_items(r)),
    *CLASI_FORM_ITEMS,
    "dyspigmentation_persistent",
)

#: SLEDAI-2K descriptors in form order, then the two drug-attribution flags.
SLEDAI_ITEM_COLUMNS: Final = (*SLEDAI_WEIGHTS, *DRUG_EXCLUSIONS.values())

#: Skindex-29+3 item columns, by item number (``item_<n>``, response 1-5 or empty).
SKINDEX_ITEM_COLUMNS: Final = tuple(f"item_{i}" for i in SKINDEX_ITEMS)

#: Skindex-29+3 domain score columns (0-100), in :data:`~cletrial.vocabulary.SKINDEX_DOMAIN` order.
SKINDEX_DOMAIN_COLUMNS: Final = tuple(SKINDEX_DOMAIN.values)

#: The item columns of each form of a visit (:data:`BY_VISIT`): what is entered; the rest of
#: the form (scores, domains) is computed from them.
FORM_ITEM_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "clasi_assessments": CLASI_ITEM_COLUMNS,
    "sledai_assessments": SLEDAI_ITEM_COLUMNS,
    "skindex_assessments": SKINDEX_ITEM_COLUMNS,
}


class ClasiAssessment(Versioned, Base):
    """A CLASI form of a visit, item by item (see :data:`CLASI_ITEM_COLUMNS`), with its scores.

    ``entry`` is ``items`` (scores computed from the items) or ``scores`` (only the published
    CLASI-A and CLASI-D are known; the item columns are empty).
    """

    __tablename__ = "clasi_assessments"
    __table_args__ = ({"sqlite_autoincrement": True},)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    entry: Mapped[str] = mapped_column(String(6))
    activity: Mapped[int] = mapped_column(SmallInteger)
    damage: Mapped[int] = mapped_column(SmallInteger)
    activity_severity: Mapped[str] = mapped_column(String(8))


class SledaiAssessment(Versioned, Base):
    """A SLEDAI-2K form of a visit, descriptor by descriptor, with its score.

    ``entry`` is ``items`` or ``score`` (only the total is known; descriptor columns empty).
    """

    __tablename__ = "sledai_assessments"
    __table_args__ = ({"sqlite_autoincrement": True},)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    entry: Mapped[str] = mapped_column(String(6))
    score: Mapped[int] = mapped_column(SmallInteger)


class SkindexAssessment(Versioned, Base):
    """A Skindex-29+3 form of a visit: responses by item number and the domain scores.

    Only item numbers and responses are stored (see :data:`SKINDEX_ITEM_COLUMNS`); a domain
    score is empty when fewer than 75% of its items are answered
    (:func:`cletrial.instruments.compute_skindex`).
    """

    __tablename__ = "skindex_assessments"
    __table_args__ = ({"sqlite_autoincrement": True},)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)


for _name in CLASI_ITEM_COLUMNS:
    _type = Boolean if _name == "dyspigmentation_persistent" else SmallInteger
    setattr(ClasiAssessment, _name, mapped_column(_name, _type, nullable=True))
for _name in SLEDAI_ITEM_COLUMNS:
    setattr(SledaiAssessment, _name, mapped_column(_name, Boolean, nullable=True))
for _name in SKINDEX_ITEM_COLUMNS:
    setattr(SkindexAssessment, _name, mapped_column(_name, SmallInteger, nullable=True))
for _name in SKINDEX_DOMAIN_COLUMNS:
    setattr(SkindexAssessment, _name, mapped_column(_name, Float, nullable=True))
del _name, _type
