"""Settings of the web application: database, protocol, session timeouts, cookies.

Settings are a frozen dataclass passed to :func:`cletrial.web.create_app`; nothing is read from
the environment at import time. :meth:`WebSettings.from_env` reads ``CLETRIAL_*`` variables for
deployments that configure through the environment.

>>> s = WebSettings(database_url="sqlite:///:memory:")
>>> s.session_idle_timeout_s, s.session_absolute_timeout_s
(1800, 43200)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from cletrial.errors import InputError

__all__ = ["WebSettings"]


@dataclass(frozen=True)
class WebSettings:
    """Configuration of one web application instance.

    Parameters
    ----------
    database_url : str
        SQLAlchemy URL of the study database, e.g. ``sqlite:///var/cletrial.sqlite`` or
        ``postgresql+psycopg://user@host/db``.
    protocol : str
        Id or path of the protocol definition the study runs (default the 2012 regimen).
    session_idle_timeout_s : int
        Seconds without a request after which a session ends (default 30 minutes).
    session_absolute_timeout_s : int
        Seconds after login after which a session ends whatever the activity (default 12 hours).
    cookie_secure : bool
        Send the session cookie only over HTTPS. Off by default for ``http://127.0.0.1``; turn
        it on behind TLS.
    login_max_failures : int
        Failed logins for one user name after which further attempts are refused for
        ``login_lockout_s`` seconds.
    login_lockout_s : int
        Seconds a user name stays locked after too many failed logins.
    study_label : str
        Name of the study shown in the page header.
    synthetic_data : bool
        The database holds synthetic (demo) data: every page says so.
    worker_header : bool
        Add ``X-Cletrial-Worker: <process id>`` to every answer. For tests of several worker
        processes only (it tells which process answered); off by default.
    """

    database_url: str = "sqlite:///var/cletrial.sqlite"
    protocol: str = "lenalidomide-cle-2012"
    session_idle_timeout_s: int = 30 * 60
    session_absolute_timeout_s: int = 12 * 60 * 60
    cookie_secure: bool = False
    login_max_failures: int = 5
    login_lockout_s: int = 15 * 60
    study_label: str = "Lenalidomide in refractory CLE"
    synthetic_data: bool = False
    worker_header: bool = False

    def __post_init__(self) -> None:
        for name in ("session_idle_timeout_s", "session_absolute_timeout_s", "login_lockout_s"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise InputError(name, value, "must be a positive number of seconds")
        if self.session_idle_timeout_s > self.session_absolute_timeout_s:
            raise InputError(
                "session_idle_timeout_s",
                self.session_idle_timeout_s,
                "must not exceed session_absolute_timeout_s",
            )
        if not isinstance(self.login_max_failures, int) or self.login_max_failures < 1:
            raise InputError("login_max_failures", self.login_max_failures, "must be 1 or more")
        if not self.database_url:
            raise InputError("database_url", self.database_url, "must be a database URL")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> WebSettings:
        """Build settings from ``CLETRIAL_<FIELD>`` variables, then apply ``overrides``.

        Parameters
        ----------
        environ : mapping, optional
            The environment to read (default ``os.environ``).
        **overrides
            Field values that win over the environment.

        >>> WebSettings.from_env({"CLETRIAL_SESSION_IDLE_TIMEOUT_S": "60"}).session_idle_timeout_s
        60
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(f"CLETRIAL_{field.name.upper()}")
            if raw is None:
                continue
            values[field.name] = _parse(field.name, raw, field.type)
        values.update(overrides)
        return cls(**values)

    def with_changes(self, **changes: Any) -> WebSettings:
        """Return a copy with some fields changed.

        >>> WebSettings().with_changes(cookie_secure=True).cookie_secure
        True
        """
        return replace(self, **changes)


def _parse(name: str, raw: str, kind: Any) -> Any:
    text = str(kind)
    if text == "bool":
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise InputError(f"CLETRIAL_{name.upper()}", raw, "must be true or false")
    if text == "int":
        try:
            return int(raw)
        except ValueError:
            raise InputError(f"CLETRIAL_{name.upper()}", raw, "must be an integer") from None
    return raw
