"""Shared fixtures of the analysis tests."""

from __future__ import annotations

import pytest

from cletrial.analysis.claims import ClaimsAudit, compute_claims_audit
from cletrial.analysis.reference import ReferenceStudy, load_reference_study


@pytest.fixture(scope="session")
def study() -> ReferenceStudy:
    """The reference study, loaded once."""
    return load_reference_study()


@pytest.fixture(scope="session")
def audit(study: ReferenceStudy) -> ClaimsAudit:
    """The claims audit of the reference study, computed once."""
    return compute_claims_audit(study)
