"""Typed repositories as attributes of the unit of work (``uow.visits``, ``uow.labs``, ...)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, cast

from cletrial.store import repositories as r

if TYPE_CHECKING:
    from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["RepositoryAccess"]


class RepositoryAccess:
    """Mixin of :class:`~cletrial.store.UnitOfWork`: one repository per kind of record."""

    @property
    def _uow_self(self) -> UnitOfWork:
        return cast("UnitOfWork", self)

    @cached_property
    def studies(self) -> r.StudyRepository:
        """Studies."""
        return r.StudyRepository(self._uow_self)

    @cached_property
    def sites(self) -> r.SiteRepository:
        """Sites of studies."""
        return r.SiteRepository(self._uow_self)

    @cached_property
    def users(self) -> r.UserRepository:
        """Users, roles, sites and passwords."""
        return r.UserRepository(self._uow_self)

    @cached_property
    def patients(self) -> r.PatientRepository:
        """Patients (pseudonymous study codes)."""
        return r.PatientRepository(self._uow_self)

    @cached_property
    def identities(self) -> r.IdentityRepository:
        """Identifying data of patients (kept apart)."""
        return r.IdentityRepository(self._uow_self)

    @cached_property
    def screenings(self) -> r.ScreeningRepository:
        """Screening records."""
        return r.ScreeningRepository(self._uow_self)

    @cached_property
    def visits(self) -> r.VisitRepository:
        """Visits; sign and unlock."""
        return r.VisitRepository(self._uow_self)

    @cached_property
    def clasi(self) -> r.ClasiRepository:
        """CLASI forms of visits, item by item, scored."""
        return r.ClasiRepository(self._uow_self)

    @cached_property
    def sledai(self) -> r.SledaiRepository:
        """SLEDAI-2K forms of visits, scored."""
        return r.SledaiRepository(self._uow_self)

    @cached_property
    def skindex(self) -> r.SkindexRepository:
        """Skindex-29+3 forms of visits (item numbers and responses), scored by domain."""
        return r.SkindexRepository(self._uow_self)

    @cached_property
    def labs(self) -> r.LabRepository:
        """Lab results, graded by NCI CTCAE."""
        return r.LabRepository(self._uow_self)

    @cached_property
    def doses(self) -> r.DoseRepository:
        """Regimens given."""
        return r.DoseRepository(self._uow_self)

    @cached_property
    def adverse_events(self) -> r.AdverseEventRepository:
        """Adverse events."""
        return r.AdverseEventRepository(self._uow_self)

    @cached_property
    def pregnancy_tests(self) -> r.PregnancyTestRepository:
        """Pregnancy tests."""
        return r.PregnancyTestRepository(self._uow_self)

    @cached_property
    def events(self) -> r.PatientEventRepository:
        """Disposition events."""
        return r.PatientEventRepository(self._uow_self)

    @cached_property
    def deviations(self) -> r.DeviationRepository:
        """Protocol deviations."""
        return r.DeviationRepository(self._uow_self)

    @cached_property
    def dispositions(self) -> r.DispositionRepository:
        """End of treatment and end of study."""
        return r.DispositionRepository(self._uow_self)

    @cached_property
    def overrides(self) -> r.OverrideRepository:
        """Investigators' overrides of the enrolment gate."""
        return r.OverrideRepository(self._uow_self)

    @cached_property
    def immunology(self) -> r.ImmunologyRepository:
        """ANA, anti-ENA and antiphospholipid antibody results."""
        return r.ImmunologyRepository(self._uow_self)

    @cached_property
    def nerve_conduction(self) -> r.NerveConductionRepository:
        """Nerve conduction studies."""
        return r.NerveConductionRepository(self._uow_self)

    @cached_property
    def medications(self) -> r.MedicationRepository:
        """Concomitant medication with dates."""
        return r.MedicationRepository(self._uow_self)

    @cached_property
    def queries(self) -> r.QueryRepository:
        """Queries (discrepancy notes) and their threads."""
        return r.QueryRepository(self._uow_self)

    @cached_property
    def sdv(self) -> r.SdvRepository:
        """Source data verification marks and progress."""
        return r.SdvRepository(self._uow_self)

    @cached_property
    def locks(self) -> r.LockRepository:
        """The freeze and lock of the database."""
        return r.LockRepository(self._uow_self)

    @cached_property
    def login_events(self) -> r.LoginEventRepository:
        """Logins, failed logins, logouts, lock-outs and password changes."""
        return r.LoginEventRepository(self._uow_self)
