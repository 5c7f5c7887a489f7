"""How ``cletrial serve`` runs the application under uvicorn (shared with the benchmark).

With one worker the application object is passed to uvicorn. With several, each worker
process builds its own application from the environment (:func:`app_from_env`, a factory
uvicorn imports): the settings travel as ``CLETRIAL_*`` variables (:func:`settings_environment`)
and every worker opens its own engine on the same database, which holds the sessions, the
login throttle and the login events.

>>> uvicorn_options()["workers"]
1
>>> settings_environment(WebSettings(database_url="sqlite:///x.sqlite"))["CLETRIAL_DATABASE_URL"]
'sqlite:///x.sqlite'
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from fastapi import FastAPI

from cletrial.web.settings import WebSettings

__all__ = ["APP_FACTORY", "app_from_env", "settings_environment", "uvicorn_options"]

#: What uvicorn imports in each worker process.
APP_FACTORY = "cletrial.web.server:app_from_env"


def uvicorn_options(workers: int = 1) -> dict[str, Any]:
    """Keyword arguments of :func:`uvicorn.run` for the application.

    Warnings and errors only, no access log (a line per request costs time and would list
    record ids).

    Parameters
    ----------
    workers : int
        Worker processes (each needs the application as :data:`APP_FACTORY` with
        ``factory=True`` when more than one).

    Returns
    -------
    dict
        ``log_level``, ``access_log`` and ``workers``.
    """
    return {"log_level": "warning", "access_log": False, "workers": workers}


def settings_environment(settings: WebSettings) -> dict[str, str]:
    """The ``CLETRIAL_*`` variables that make :meth:`WebSettings.from_env` give ``settings``."""
    out = {}
    for field in fields(WebSettings):
        value = getattr(settings, field.name)
        out[f"CLETRIAL_{field.name.upper()}"] = str(value).lower() if isinstance(
            value, bool) else str(value)  # fmt: skip
    return out


def app_from_env() -> FastAPI:
    """The application of one worker process, configured from ``CLETRIAL_*`` variables."""
    from cletrial.web.app import create_app

    return create_app(WebSettings.from_env())
