"""What the randomisation reports show a user: the balance of each study's allocation list by
stratum and the allocation audit listing, restricted to the user's sites, blinded unless the
reader is an unblinded role who has just re-entered their password.

A site user sees only the strata of their own sites (a stratum with no ``site`` factor is
study-wide and shown to every reader) and only the randomisations of their sites' patients.
The arm is filled in only when ``role`` is unblinded
(:data:`cletrial.store.randomisation.UNBLINDED_ROLES`): the store enforces it as well.

>>> site_of_stratum("subtype=DLE|site=01"), site_of_stratum("subtype=DLE")
('01', None)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from cletrial.errors import InputError
from cletrial.store.randomisation_reports import (
    BalanceLine,
    ListingLine,
    allocation_listing,
    balance,
)
from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["StudyReport", "randomisation_reports", "site_of_stratum"]


@dataclasses.dataclass(frozen=True, slots=True)
class StudyReport:
    """One study's reports: its balance lines and listing, or why there is none."""

    study_code: str
    study_title: str
    environment: str
    balance: tuple[BalanceLine, ...]
    listing: tuple[ListingLine, ...]
    arms: tuple[str, ...]
    no_list: str

    @property
    def randomised(self) -> int:
        """Patients randomised in the strata shown."""
        return sum(line.allocated for line in self.balance)

    def arm_totals(self) -> dict[str, int]:
        """Patients by arm over the strata shown (empty for a blinded reader)."""
        if not any(line.by_arm is not None for line in self.balance):
            return {}
        return {arm: sum((line.by_arm or {}).get(arm, 0) for line in self.balance)
                for arm in self.arms}  # fmt: skip


def site_of_stratum(stratum: str) -> str | None:
    """The site code in a stratum's key (``factor=level|...``), ``None`` without one."""
    for part in stratum.split("|"):
        name, _, level = part.partition("=")
        if name == "site":
            return level
    return None


def randomisation_reports(
    uow: UnitOfWork,
    site_ids: Iterable[int],
    *,
    environment: str,
    role: str,
    listing: bool = True,
) -> list[StudyReport]:
    """The reports of every study the sites ``site_ids`` take part in, by study code.

    Parameters
    ----------
    uow : UnitOfWork
        A read unit of work.
    site_ids : iterable of int
        The reader's sites; strata and randomisations of other sites are left out.
    environment : {"production", "test"}
        Which list.
    role : str
        The reader's role: arms are shown to an unblinded role only.
    listing : bool
        Read the allocation audit listing too (``False``: the balance only, listing empty).
    """
    sites = [s for s in uow.sites.list() if s.id in set(site_ids)]
    codes: dict[int, set[str]] = {}
    for site in sites:
        codes.setdefault(site.study_id, set()).add(site.code)
    out = []
    for study in sorted(uow.studies.list(), key=lambda s: s.code):
        if study.id not in codes:
            continue
        mine = codes[study.id]
        try:
            lines = balance(uow, study.id, environment=environment, role=role)
            listed = (
                allocation_listing(uow, study.id, environment=environment, role=role)
                if listing
                else []
            )
        except InputError as exc:
            out.append(StudyReport(study.code, study.title, environment, (), (), (), str(exc)))
            continue
        shown = tuple(x for x in lines if site_of_stratum(x.stratum) in (None, *mine))
        arms = tuple(next((tuple(x.by_arm) for x in lines if x.by_arm is not None), ()))
        mine_listed = tuple(x for x in listed if x.site_code in mine)
        out.append(StudyReport(study.code, study.title, environment, shown, mine_listed, arms, ""))
    return out
