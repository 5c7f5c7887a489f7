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

A serving process also tunes Python's cyclic garbage collector (:func:`tune_gc_for_serving`):
with CPython's default threshold a visit save set off a collection every second save, which
cost about 0.35 ms of the save's CPU (``benchmarks/bench_web_save_cpu.py``).
"""

from __future__ import annotations

import gc
from dataclasses import fields
from typing import Any

from fastapi import FastAPI

from cletrial.web.settings import WebSettings

__all__ = [
    "APP_FACTORY",
    "GC_THRESHOLDS",
    "app_from_env",
    "settings_environment",
    "tune_gc_for_serving",
    "uvicorn_options",
]

#: What uvicorn imports in each worker process.
APP_FACTORY = "cletrial.web.server:app_from_env"

#: Thresholds of the garbage collector's three generations in a serving process (CPython's
#: default is (700, 10, 10)): the youngest generation is collected every 50,000 allocations
#: not yet freed, not every 700. A request's objects are freed by reference counting when it
#: ends, so a collection finds little; at most ~50,000 objects of cyclic garbage (a few MB)
#: wait for it.
GC_THRESHOLDS: tuple[int, int, int] = (50_000, 20, 100)


def tune_gc_for_serving() -> None:
    """Prepare this process's garbage collector for serving requests for a long time.

    Collects once, then freezes what survives (the application, its compiled queries and
    templates, the protocol definitions: objects that live as long as the process), so that no
    later collection walks them again, and sets :data:`GC_THRESHOLDS`. Called once per
    serving process: by ``cletrial serve`` and by each worker's :func:`app_from_env`.

    >>> import gc
    >>> before = gc.get_threshold()
    >>> tune_gc_for_serving()
    >>> gc.get_threshold() == GC_THRESHOLDS, gc.get_freeze_count() > 0
    (True, True)
    >>> gc.unfreeze(); gc.set_threshold(*before)
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


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

    app = create_app(WebSettings.from_env())
    tune_gc_for_serving()
    return app
