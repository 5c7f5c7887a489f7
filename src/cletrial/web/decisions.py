"""Calls into the protocol engine, in one place: eligibility of a screening record and the
recommendation for a patient history. Results are plain JSON-ready dicts (``as_dict()``).

The protocol package is imported here, on first use, so the web application starts (and the
live scoring works) even while a protocol definition is being fixed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cletrial.errors import InputError
from cletrial.web.protocol_cache import ProtocolCache

__all__ = ["assess_screening", "recommend_for"]


def _as_dict(result: Any) -> dict[str, Any]:
    as_dict = getattr(result, "as_dict", None)
    out = as_dict() if callable(as_dict) else result
    if not isinstance(out, dict):
        raise InputError("", None, "the protocol engine returned no result")
    return out


def assess_screening(protocol: ProtocolCache, record: dict[str, Any]) -> dict[str, Any]:
    """Eligibility of a screening record: each criterion's status and the verdict.

    Raises :class:`~cletrial.errors.ScreeningError` (naming the field) for an invalid record.
    """
    from cletrial.protocol import assess_eligibility, parse_screening

    return _as_dict(assess_eligibility(parse_screening(record), protocol.get()))


def recommend_for(
    protocol: ProtocolCache, history: dict[str, Any], on: dt.date | None = None
) -> dict[str, Any]:
    """The protocol's recommendation for a history on a date (default: today).

    Raises :class:`~cletrial.errors.HistoryError` (naming the field) for an invalid history.
    """
    from cletrial.protocol import parse_history, recommend

    when = on or dt.date.today()
    return _as_dict(recommend(parse_history(history), protocol.get(), on=when))
