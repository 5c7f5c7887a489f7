"""Sessions, timeouts, CSRF tokens, login throttling and role permissions (no database)."""

from __future__ import annotations

import pytest

from cletrial.errors import InputError
from cletrial.web.accounts import WebUser
from cletrial.web.routes._common import safe_next
from cletrial.web.security import (
    ROLE_PERMISSIONS,
    LoginThrottle,
    Permission,
    Role,
    SessionRegistry,
    compute_permissions,
    new_token,
    tokens_match,
)
from cletrial.web.settings import WebSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_tokens_have_at_least_128_bits_and_differ() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    # token_urlsafe(32): 32 random bytes = 256 bits, 43 base64url characters
    assert all(len(t) == 43 for t in tokens)


def test_registry_keeps_only_a_digest_of_the_token() -> None:
    registry = SessionRegistry(idle_timeout_s=60, absolute_timeout_s=600, clock=Clock())
    token, session = registry.create(user_id=3)
    assert token not in repr(session)
    assert session.digest != token and len(session.digest) == 64
    assert registry.get(token) is session
    assert registry.get(token + "x") is None
    assert registry.get("") is None and registry.get(None) is None


def test_idle_timeout_ends_the_session() -> None:
    clock = Clock()
    registry = SessionRegistry(idle_timeout_s=60, absolute_timeout_s=600, clock=clock)
    token, _ = registry.create(user_id=3)
    for _ in range(5):  # activity keeps it alive
        clock.now += 59
        assert registry.get(token) is not None
    clock.now += 61
    assert registry.get(token) is None
    assert len(registry) == 0


def test_absolute_timeout_ends_an_active_session() -> None:
    clock = Clock()
    registry = SessionRegistry(idle_timeout_s=60, absolute_timeout_s=300, clock=clock)
    token, _ = registry.create(user_id=3)
    for _ in range(5):
        clock.now += 50
        assert registry.get(token) is not None
    clock.now += 51  # 301 s after login, though last used 51 s ago
    assert registry.get(token) is None


def test_login_renews_the_token_and_revokes_the_old_one() -> None:
    registry = SessionRegistry(idle_timeout_s=60, absolute_timeout_s=300, clock=Clock())
    old, _ = registry.create(user_id=3)
    new, session = registry.create(user_id=3, replaces=old)
    assert new != old
    assert registry.get(old) is None
    assert registry.get(new) is session


def test_revoke_user_ends_all_their_sessions() -> None:
    registry = SessionRegistry(idle_timeout_s=60, absolute_timeout_s=300, clock=Clock())
    a, _ = registry.create(user_id=3)
    b, _ = registry.create(user_id=3)
    c, _ = registry.create(user_id=4)
    assert registry.revoke_user(3) == 2
    assert registry.get(a) is None and registry.get(b) is None
    assert registry.get(c) is not None


def test_each_session_has_its_own_csrf_token() -> None:
    registry = SessionRegistry(idle_timeout_s=60, absolute_timeout_s=300, clock=Clock())
    _, one = registry.create(user_id=1)
    _, two = registry.create(user_id=1)
    assert one.csrf_token != two.csrf_token
    assert tokens_match(one.csrf_token, one.csrf_token)
    assert not tokens_match(one.csrf_token, two.csrf_token)
    assert not tokens_match(one.csrf_token, "")


def test_login_throttle_locks_then_releases() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, lockout_s=100, clock=clock)
    for _ in range(3):
        assert not throttle.locked("Ana")
        throttle.record_failure("ana")
    assert throttle.locked("ANA")
    clock.now += 101
    assert not throttle.locked("ana")


def test_roles_match_the_issue() -> None:
    monitor = compute_permissions(["monitor"])
    assert monitor == {"view", "view_audit", "query", "verify"}  # reads, queries, verifies
    data_manager = compute_permissions(["data_manager"])
    assert {"query", "checks", "lock"} <= data_manager
    assert not data_manager & {"edit", "screen", "sign", "answer", "verify"}  # no clinical entry
    statistician = compute_permissions(["statistician"])
    assert "export" in statistician and "edit" not in statistician and "screen" not in statistician
    assert "sign" in compute_permissions(["investigator"])
    assert "sign" not in compute_permissions(["coordinator"])
    assert "admin" in compute_permissions(["administrator"])
    assert set(ROLE_PERMISSIONS) == set(Role)
    for role in (Role.MONITOR, Role.STATISTICIAN, Role.DATA_MANAGER):
        assert Permission.EDIT not in ROLE_PERMISSIONS[role]
    assert "answer" in compute_permissions(["coordinator"]) and "answer" not in monitor


def test_web_user_refuses_other_sites_and_logs_without_identifiers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = WebUser(
        id=9, username="cora", display_name="Cora", role="coordinator", active=True,
        site_ids=frozenset({1}), version=1,
    )  # fmt: skip
    user.check_site(1)
    with caplog.at_level("WARNING", logger="cletrial.web.access"), pytest.raises(PermissionError):
        user.check_site(2, route="/patients/{patient_id}")
    assert "user 9" in caplog.text and "site 2" in caplog.text
    assert "{patient_id}" in caplog.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/patients", "/patients"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next_only_allows_local_paths(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_settings_validate_timeouts() -> None:
    with pytest.raises(InputError, match="session_idle_timeout_s"):
        WebSettings(session_idle_timeout_s=0)
    with pytest.raises(InputError, match="must not exceed"):
        WebSettings(session_idle_timeout_s=100, session_absolute_timeout_s=50)
    env = {"CLETRIAL_COOKIE_SECURE": "yes", "CLETRIAL_LOGIN_MAX_FAILURES": "3"}
    settings = WebSettings.from_env(env)
    assert settings.cookie_secure is True and settings.login_max_failures == 3
    with pytest.raises(InputError, match="CLETRIAL_COOKIE_SECURE"):
        WebSettings.from_env({"CLETRIAL_COOKIE_SECURE": "maybe"})
