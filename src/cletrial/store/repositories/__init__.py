"""Typed repositories: one per kind of record, reached through the unit of work
(``uow.patients``, ``uow.visits``, ``uow.clasi``, ``uow.labs``, ...)."""

from __future__ import annotations

from cletrial.store.repositories.admin import SiteRepository, StudyRepository, UserRepository
from cletrial.store.repositories.assessments import (
    ImmunologyRepository,
    MedicationRepository,
    NerveConductionRepository,
)
from cletrial.store.repositories.base import Repository
from cletrial.store.repositories.enrolment import DispositionRepository, OverrideRepository
from cletrial.store.repositories.events import (
    AdverseEventRepository,
    DeviationRepository,
    DoseRepository,
    LabRepository,
    PatientEventRepository,
    PregnancyTestRepository,
)
from cletrial.store.repositories.patients import (
    IdentityRepository,
    PatientRepository,
    ScreeningRepository,
)
from cletrial.store.repositories.queries import QueryMessageRepository, QueryRepository
from cletrial.store.repositories.skindex import SkindexRepository
from cletrial.store.repositories.verification import LockRepository, SdvRepository
from cletrial.store.repositories.visits import ClasiRepository, SledaiRepository, VisitRepository
from cletrial.store.repositories.web_tier import LoginEventRepository

__all__ = [
    "AdverseEventRepository",
    "ClasiRepository",
    "DeviationRepository",
    "DispositionRepository",
    "DoseRepository",
    "IdentityRepository",
    "ImmunologyRepository",
    "LabRepository",
    "LockRepository",
    "LoginEventRepository",
    "MedicationRepository",
    "NerveConductionRepository",
    "OverrideRepository",
    "PatientEventRepository",
    "PatientRepository",
    "PregnancyTestRepository",
    "QueryMessageRepository",
    "QueryRepository",
    "Repository",
    "ScreeningRepository",
    "SdvRepository",
    "SiteRepository",
    "SkindexRepository",
    "SledaiRepository",
    "StudyRepository",
    "UserRepository",
    "VisitRepository",
]
