"""The Skindex-29+3 form of a visit: responses by item number, with its domain scores.

Only item numbers and responses are stored, never the item text (the questionnaire is
copyrighted). A response is 1-5; an item left blank is not answered (never "never"); a domain
is scored when at least 75% of its items are answered, otherwise it is missing
(:func:`cletrial.instruments.compute_skindex`). A form with no item answered is refused: omit
the Skindex-29+3 when it was not assessed.

>>> import datetime as dt
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01")
...     v = uow.visits.create(patient_id=p.id, visit_date=dt.date(2009, 2, 2), cla_iga=3,
...                           skindex={"31": 4, "32": 4, "33": 5})
>>> with UnitOfWork(engine, read_only=True) as uow:
...     s = uow.skindex.for_visit(v.id)
...     grade = uow.visits.get(v.id).cla_iga
>>> grade, s.responses, s.score.lupus_specific, s.score.emotions
(3, {31: 4, 32: 4, 33: 5}, 83.33333333333333, None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cletrial.errors import FormError
from cletrial.instruments import SKINDEX_ITEMS, compute_skindex, validate_skindex_form
from cletrial.store.records import SkindexRecord
from cletrial.store.repositories.visits import FormRepository

__all__ = ["SkindexRepository", "skindex_values"]


def skindex_values(form: Mapping[str, Any] | Any) -> dict[str, Any]:
    """The stored columns of a Skindex-29+3 form (item number as text -> 1-5 or ``None``).

    Every item column is written (empty when not answered) with the four domain scores.

    Raises
    ------
    FormError
        Naming ``skindex.<item>`` and the value (unknown item, response not 1-5), or
        ``skindex`` when no item is answered.

    >>> values = skindex_values({"1": 2, "2": None})
    >>> values["item_1"], values["item_2"], values["symptoms"]
    (2, None, None)
    >>> skindex_values({"32": 6})
    Traceback (most recent call last):
    ...
    cletrial.errors.FormError: skindex.32 = 6: must be 1, 2, 3, 4 or 5 (1 never, ...
    """
    try:
        answered = validate_skindex_form(form)
    except FormError as exc:
        field = "skindex" if exc.field == "" else f"skindex.{exc.field}"
        raise FormError(field, exc.value, exc.problem) from None
    if not answered:
        raise FormError("skindex", dict(form), "no item is answered: omit the Skindex-29+3 "
                        "when it was not assessed (a blank is never 'never')")  # fmt: skip
    score = compute_skindex(form)
    return {**{f"item_{i}": answered.get(i) for i in SKINDEX_ITEMS}, **score.as_dict()}


class SkindexRepository(FormRepository[SkindexRecord]):
    """The Skindex-29+3 of each visit, item number by item number, with its domain scores."""

    table = "skindex_assessments"
    record = SkindexRecord

    def for_visit(self, visit_id: int) -> SkindexRecord | None:
        """The visit's Skindex-29+3, or ``None`` when none was recorded (missing, not zero)."""
        return self._find(visit_id=visit_id)

    def for_visits(self, visit_ids: Iterable[int]) -> dict[int, SkindexRecord]:
        """The Skindex-29+3 of each of these visits, by visit id (one query per 500 visits);
        a visit without one has no key."""
        return self._by_visit(visit_ids)

    def save(
        self,
        visit_id: int,
        form: Mapping[str, Any] | Any,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> SkindexRecord:
        """Store a Skindex-29+3 form (it replaces the whole stored form) and its scores.

        A second save of the same visit's form is an edit: give ``expected_version`` (and a
        reason); only the items that change are written to the audit trail.
        """
        row = self._save(visit_id, skindex_values(form), expected_version, reason)
        return SkindexRecord.from_row(row)
