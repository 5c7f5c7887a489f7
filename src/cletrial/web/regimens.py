"""Regimen choices and labels of the pages, read from the study's protocol definition.

The dose ladder belongs to the protocol (``regimens`` of the definition file, highest weekly
dose first, the last step no treatment), so the pages never hard-code it: the dose selects, the
dose edit page and the timeline's dose band all come from the definition the application runs
(:class:`cletrial.web.protocol_cache.ProtocolCache`).

>>> from cletrial.protocol import load_protocol
>>> protocol = load_protocol("lenalidomide-cle-2012")
>>> regimen_choices(protocol)[:2]
[('10_daily', '10 mg every day'), ('5_daily', '5 mg every day')]
>>> regimen_choices(protocol)[-1]
('off', 'off (no lenalidomide)')
>>> regimen_rows(protocol)["5_alternate"], regimen_short_labels(protocol)["5_alternate"]
(2, '5 mg alt')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cletrial.protocol import ProtocolDefinition
    from cletrial.protocol.definition_model import Regimen

__all__ = ["regimen_choices", "regimen_rows", "regimen_short", "regimen_short_labels"]


def _ladder(protocol: ProtocolDefinition | None) -> list[Regimen]:
    return [] if protocol is None else list(protocol.regimens)


def regimen_choices(protocol: ProtocolDefinition | None) -> list[tuple[str, str]]:
    """``(regimen id, label)`` pairs of the dose ladder: highest dose first, then off.

    The label is the definition's ``schedule`` text (the text the recommendation panel shows);
    the last step, no treatment, reads ``off (<schedule>)``. ``None`` (no protocol loaded)
    gives no choices.

    >>> regimen_choices(None)
    []
    """
    ladder = _ladder(protocol)
    out = [(r.id, r.schedule) for r in ladder[:-1]]
    if ladder:
        last = ladder[-1]
        schedule = last.schedule
        out.append((last.id, schedule if schedule.lower().startswith("off") else
                    f"off ({schedule})"))  # fmt: skip
    return out


def regimen_rows(protocol: ProtocolDefinition | None) -> dict[str, int]:
    """Regimen id -> position on the ladder (0 = highest dose; the last is no treatment).

    >>> regimen_rows(None)
    {}
    """
    return {r.id: i for i, r in enumerate(_ladder(protocol))}


def regimen_short(regimen: Regimen) -> str:
    """A short label for a narrow place (the timeline's dose band), from the dose and the
    administrations per week: ``10 mg/d``, ``5 mg alt``, ``5 mg 3/wk``, ``off``.

    >>> from cletrial.protocol.definition_model import Regimen
    >>> regimen_short(Regimen("50_twice_weekly", 50, 2, "50 mg twice a week"))
    '50 mg 2/wk'
    """
    per_week = regimen.administrations_per_week
    if regimen.dose_mg == 0 or per_week == 0:
        return "off"
    if per_week == 7:
        return f"{regimen.dose_mg:g} mg/d"
    if per_week == 3.5:
        return f"{regimen.dose_mg:g} mg alt"
    return f"{regimen.dose_mg:g} mg {per_week:g}/wk"


def regimen_short_labels(protocol: ProtocolDefinition | None) -> dict[str, str]:
    """Regimen id -> :func:`regimen_short` label, for every step of the ladder."""
    return {r.id: regimen_short(r) for r in _ladder(protocol)}
