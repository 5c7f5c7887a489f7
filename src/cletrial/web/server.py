"""How ``cletrial serve`` runs the application under uvicorn (shared with the benchmark).

>>> uvicorn_options()["workers"]
1
"""

from __future__ import annotations

from typing import Any

__all__ = ["uvicorn_options"]


def uvicorn_options() -> dict[str, Any]:
    """Keyword arguments of :func:`uvicorn.run` for the application.

    One worker process (sessions live in the process); warnings and errors only, no access log
    (a line per request costs time and would list record ids).

    Returns
    -------
    dict
        ``log_level``, ``access_log`` and ``workers``.
    """
    return {"log_level": "warning", "access_log": False, "workers": 1}
