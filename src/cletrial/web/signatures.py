"""Electronic signatures: the signer's password re-entered under the login throttle, and the
signing of a visit.

Every e-signed action (visit sign-off, enrolment override, database lock) checks the password
here, so a wrong one counts towards the same lock-out as a wrong login.
"""

from __future__ import annotations

from fastapi import Request

from cletrial.web.accounts import WebUser, throttled_check
from cletrial.web.clinical import visit_in_scope, visit_public
from cletrial.web.deps import write_uow
from cletrial.web.handlers import SignatureRefusedError, is_api
from cletrial.web.schemas_clinical import SignRequest, VisitPublic

__all__ = ["check_signature_password", "sign_visit"]


def check_signature_password(request: Request, user: WebUser, password: str) -> None:
    """An electronic signature's second component: the signer's own password, re-entered
    (checked under the login throttle: wrong ones count towards the lock-out)."""
    state = request.app.state
    checked = throttled_check(state.engine, state.throttle, user.username, password,
                              channel="api" if is_api(request) else "page", action="signing",
                              detail="password re-entered to sign")  # fmt: skip
    if checked is None:
        raise SignatureRefusedError(
            "password not recognised: the signature needs your own password, re-entered"
        )
    state.throttle.succeeded(user.username)


def sign_visit(request: Request, user: WebUser, visit_id: int, body: SignRequest) -> VisitPublic:
    """Check the re-entered password, then sign (the visit becomes locked)."""
    check_signature_password(request, user, body.password)
    with write_uow(request, user) as uow:
        visit_in_scope(uow, user, visit_id)
        signed = uow.visits.sign(visit_id, expected_version=body.version, meaning=body.meaning)
        return visit_public(uow, signed)
