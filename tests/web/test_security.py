"""Sessions (in the database), timeouts, CSRF tokens, login throttling and role permissions, on
SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text
from tests.web.conftest import Study

from cletrial.errors import InputError
from cletrial.store import UnitOfWork
from cletrial.web.accounts import WebUser
from cletrial.web.routes._common import safe_next
from cletrial.web.security import (
    ROLE_PERMISSIONS,
    LoginThrottle,
    Permission,
    Role,
    SessionRegistry,
    compute_permissions,
    name_digest,
    new_token,
    tokens_match,
)
from cletrial.web.settings import WebSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def study(db_study: Study) -> Study:
    return db_study


def _user_id(study: Study, name: str = "monitor") -> int:
    with UnitOfWork(study.engine, read_only=True) as uow:
        found = uow.users.by_username(name)
    assert found is not None
    return found.id


def _registry(study: Study, clock: Clock, idle: float = 60, absolute: float = 600,
              touch: float | None = None) -> SessionRegistry:  # fmt: skip
    return SessionRegistry(study.engine, idle_timeout_s=idle, absolute_timeout_s=absolute,
                           clock=clock, touch_interval_s=touch)  # fmt: skip


def _stored(study: Study) -> list[dict[str, object]]:
    with study.engine.connect() as conn:
        return [dict(r) for r in conn.execute(text("SELECT * FROM web_sessions")).mappings()]


def test_tokens_have_at_least_128_bits_and_differ() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    # token_urlsafe(32): 32 random bytes = 256 bits, 43 base64url characters
    assert all(len(t) == 43 for t in tokens)


def test_registry_keeps_only_a_digest_of_the_token(study: Study) -> None:
    registry = _registry(study, Clock())
    token, session = registry.create(user_id=_user_id(study))
    assert token not in repr(session)
    rows = _stored(study)
    assert [r["token_digest"] for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in str(rows)
    found = registry.get(token)
    assert found is not None and found.csrf_token == session.csrf_token
    assert registry.get(token + "x") is None
    assert registry.get("") is None and registry.get(None) is None


def test_idle_timeout_ends_the_session(study: Study) -> None:
    clock = Clock()
    registry = _registry(study, clock, touch=0)
    token, _ = registry.create(user_id=_user_id(study))
    for _ in range(5):  # activity keeps it alive
        clock.now += 59
        assert registry.get(token) is not None
    clock.now += 61
    assert registry.get(token) is None


def test_last_use_is_written_at_most_once_per_touch_interval(study: Study) -> None:
    clock = Clock()
    registry = _registry(study, clock, idle=600, absolute=6000, touch=60)
    token, _ = registry.create(user_id=_user_id(study))
    clock.now += 30
    assert registry.get(token) is not None
    assert _stored(study)[0]["last_seen"] == 1_000_000.0  # not written: within the interval
    clock.now += 31
    assert registry.get(token) is not None
    assert _stored(study)[0]["last_seen"] == 1_000_061.0


def test_absolute_timeout_ends_an_active_session(study: Study) -> None:
    clock = Clock()
    registry = _registry(study, clock, absolute=300, touch=0)
    token, _ = registry.create(user_id=_user_id(study))
    for _ in range(5):
        clock.now += 50
        assert registry.get(token) is not None
    clock.now += 51  # 301 s after login, though last used 51 s ago
    assert registry.get(token) is None


def test_login_renews_the_token_revokes_the_old_one_and_purges_ended_ones(study: Study) -> None:
    clock = Clock()
    registry = _registry(study, clock)
    stale, _ = registry.create(user_id=_user_id(study, "coordinator"))
    clock.now += 61  # the coordinator's session has ended
    old, _ = registry.create(user_id=_user_id(study))
    new, session = registry.create(user_id=_user_id(study), replaces=old)
    assert new != old
    assert registry.get(old) is None and registry.get(stale) is None
    found = registry.get(new)
    assert found is not None and found.csrf_token == session.csrf_token
    assert len(registry) == 1


def test_revoke_user_ends_all_their_sessions(study: Study) -> None:
    registry = _registry(study, Clock())
    a, _ = registry.create(user_id=_user_id(study))
    b, _ = registry.create(user_id=_user_id(study))
    c, _ = registry.create(user_id=_user_id(study, "coordinator"))
    assert registry.revoke_user(_user_id(study), keep=b) == 1
    assert registry.get(a) is None and registry.get(b) is not None
    assert registry.revoke_user(_user_id(study)) == 1
    assert registry.get(b) is None and registry.get(c) is not None


def test_each_session_has_its_own_csrf_token(study: Study) -> None:
    registry = _registry(study, Clock())
    _, one = registry.create(user_id=_user_id(study))
    _, two = registry.create(user_id=_user_id(study))
    assert one.csrf_token != two.csrf_token
    assert tokens_match(one.csrf_token, one.csrf_token)
    assert not tokens_match(one.csrf_token, two.csrf_token)
    assert not tokens_match(one.csrf_token, "")


def test_forget_user_changes_the_user_key_of_every_session(study: Study) -> None:
    registry = _registry(study, Clock())
    token, _ = registry.create(user_id=_user_id(study))
    before = registry.get(token)
    registry.forget_user(_user_id(study))
    after = registry.get(token)
    assert before is not None and after is not None and before.user_key != after.user_key


def test_login_throttle_locks_then_releases(study: Study) -> None:
    clock = Clock()
    throttle = LoginThrottle(study.engine, max_failures=3, lockout_s=100, clock=clock)
    for number in (1, 2, 3):
        assert not throttle.locked("Ana")
        assert throttle.reserve("ana") == number
        throttle.failed("ana")
    assert throttle.locked("ANA") and throttle.reserve("Ana") is None
    clock.now += 101
    assert not throttle.locked("ana") and throttle.reserve("ana") == 1


def test_login_throttle_stores_no_user_name(study: Study) -> None:
    throttle = LoginThrottle(study.engine, max_failures=3, lockout_s=100)
    throttle.reserve("my secret password")
    with study.engine.connect() as conn:
        stored = conn.execute(text("SELECT name_digest FROM login_throttle")).scalars().all()
    assert stored == [name_digest("my secret password")] and "secret" not in stored[0]


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
