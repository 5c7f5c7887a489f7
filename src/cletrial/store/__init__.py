"""The study database: tables, the unit of work, the audit trail, migrations, import and export.

::

    from cletrial.store import UnitOfWork, create_engine_for, upgrade

    engine = create_engine_for(None)          # $CLETRIAL_DATABASE_URL or ./var/cletrial.sqlite
    upgrade(engine)                           # Alembic upgrade to the newest schema
    with UnitOfWork(engine, user="ana", reason=None) as uow:
        visit = uow.visits.create(patient_id=1, visit_date=date(2009, 2, 2), kind="baseline",
                                  clasi={"regions": {"arms": {"erythema": 2}}})
    # leaving the block commits the visit, its scored CLASI and their audit rows together

See ``docs/store.md`` for the whole API, the import/export formats and the audit trail.
"""

from __future__ import annotations

from cletrial.store.audit import (
    AuditFinding,
    AuditRecord,
    AuditVerification,
    ChainHead,
    assert_audit_chain,
    audit_history,
    verify_audit_chain,
)
from cletrial.store.audit_replay import RecordFinding, verify_records_against_audit
from cletrial.store.engine import create_engine_for, default_database_url
from cletrial.store.history_export import export_patient_history
from cletrial.store.migrate import current_revision, head_revision, migration_history, upgrade
from cletrial.store.records import (
    AdverseEventRecord,
    ClasiRecord,
    DeviationRecord,
    DoseRecord,
    IdentityRecord,
    LabRecord,
    PatientEventRecord,
    PatientRecord,
    PregnancyTestRecord,
    ScreeningRecord,
    SiteRecord,
    SledaiRecord,
    StudyRecord,
    UserRecord,
    VisitRecord,
)
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.store.users import create_user, verify_password

__all__ = [
    "AdverseEventRecord",
    "AuditFinding",
    "AuditRecord",
    "AuditVerification",
    "ChainHead",
    "ClasiRecord",
    "DeviationRecord",
    "DoseRecord",
    "IdentityRecord",
    "LabRecord",
    "PatientEventRecord",
    "PatientRecord",
    "PregnancyTestRecord",
    "RecordFinding",
    "ScreeningRecord",
    "SiteRecord",
    "SledaiRecord",
    "StudyRecord",
    "UnitOfWork",
    "UserRecord",
    "VisitRecord",
    "assert_audit_chain",
    "audit_history",
    "create_engine_for",
    "create_user",
    "current_revision",
    "default_database_url",
    "export_patient_history",
    "head_revision",
    "migration_history",
    "upgrade",
    "verify_audit_chain",
    "verify_password",
    "verify_records_against_audit",
]
