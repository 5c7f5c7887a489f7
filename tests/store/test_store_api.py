"""The public API of cletrial.store is curated: this test pins it (others build on it)."""

from __future__ import annotations

import cletrial.store as store

PUBLIC = [
    "AdverseEventRecord", "AuditFinding", "AuditRecord", "AuditVerification", "ChainHead",
    "ClasiRecord", "DeviationRecord", "DoseRecord", "IdentityRecord", "LabRecord",
    "PatientEventRecord", "PatientRecord", "PregnancyTestRecord", "RecordFinding",
    "ScreeningRecord", "SiteRecord", "SledaiRecord", "StudyRecord", "UnitOfWork", "UserRecord",
    "VisitRecord", "assert_audit_chain", "audit_history", "create_engine_for", "create_user",
    "current_revision", "default_database_url", "export_patient_history", "head_revision",
    "migration_history", "upgrade", "verify_audit_chain", "verify_password",
    "verify_records_against_audit",
]  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert sorted(store.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(store, name) is not None


def test_store_is_not_imported_by_the_core() -> None:
    import subprocess
    import sys

    code = ("import sys, cletrial.instruments, cletrial.protocol, cletrial.endpoints, "
            "cletrial.analysis; print('cletrial.store' in sys.modules)")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert result.stdout.strip() == "False"
