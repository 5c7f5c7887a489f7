"""Jinja2 templates of the web pages: environment, filters and the shared page context.

Templates ship inside the package (``cletrial/web/templates``); autoescaping is on and undefined
names are errors, so a typo in a template fails the tests instead of rendering blank.

>>> env = make_environment()
>>> env.from_string("{{ x }}").render(x="<b>")
'&lt;b&gt;'
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Final

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

__all__ = ["make_environment", "make_templates", "page_context"]

#: Readable labels of controlled values shown in the pages.
LABELS: dict[str, str] = {
    "10_daily": "10 mg daily",
    "5_daily": "5 mg daily",
    "5_alternate": "5 mg on alternate days",
    "5_thrice_weekly": "5 mg three times a week",
    "5_twice_weekly": "5 mg twice a week",
    "off": "off (no lenalidomide)",
    "neutrophils": "Neutrophils",
    "wbc": "White blood cells",
    "platelets": "Platelets",
    "hemoglobin": "Haemoglobin",
    "anti_dsdna": "Anti-dsDNA",
    "c3": "C3",
    "c4": "C4",
    "ana": "ANA",
    "anti_ena": "Anti-ENA",
    "antiphospholipid": "Antiphospholipid antibodies",
    "rest_of_face": "Rest of face",
    "v_neck": "V-area of neck (frontal)",
    "posterior_neck_shoulders": "Posterior neck and/or shoulders",
    "back_buttocks": "Back and buttocks",
    "nose": "Nose (incl. malar area)",
}


#: Form field parts -> the words the form shows.
_FIELD_WORDS: Final = {
    "clasi": "CLASI", "sledai": "SLEDAI-2K", "lab": "", "value": "value", "unit": "unit",
    "lln": "lower limit of normal", "confirmed": "confirmation", "clasi_assessed": "CLASI",
    "sledai_assessed": "SLEDAI-2K", "dose": "Dose", "start_date": "start date",
    "end_date": "end date", "visit_date": "Visit date", "screening_date": "Screening date",
    "body_surface": "Body surface", "background_therapy": "Background therapy",
    "conventional_treatment": "Conventional treatment", "thalidomide": "Thalidomide",
}  # fmt: skip


def field_label(name: Any) -> str:
    """The words a form shows for a field name (``lab.neutrophils.value`` -> ``Neutrophils
    value``; ``ae-0.grade`` -> ``Adverse event 1 grade``).

    >>> field_label("lab.neutrophils.value"), field_label("ae-1.start_date")
    ('Neutrophils value', 'Adverse event 2 start date')
    >>> field_label("clasi.v_neck.erythema"), field_label("background_therapy.stable_days")
    ('CLASI V-area of neck (frontal) erythema', 'Background therapy stable days')
    """
    words = []
    for part in str(name).split("."):
        if re.fullmatch(r"ae-[0-9]{1,6}", part):
            words.append(f"Adverse event {int(part[3:]) + 1}")
        elif part in _FIELD_WORDS:
            words.append(_FIELD_WORDS[part])
        elif part in LABELS:
            words.append(LABELS[part])
        else:
            words.append(part.replace("_", " "))
    text = " ".join(w for w in words if w)
    return text[:1].upper() + text[1:]


def shown(value: Any) -> str:
    """A value as a person reads it: yes/no, "not recorded", numbers without a trailing .0,
    and the items of a mapping in words (never Python's repr).

    >>> shown(True), shown(None), shown(250000.0), shown(1.19)
    ('yes', 'not recorded', '250000', '1.19')
    >>> shown({"stable_days": 60, "prednisone_mg_per_day": 5.0, "antimalarial": True})
    'stable days 60, prednisone mg per day 5, antimalarial yes'
    """
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else str(value)
    if isinstance(value, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} {shown(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(shown(v) for v in value)
    return str(value)


def label(value: Any) -> str:
    """A readable label for a controlled value (``5_daily`` -> ``5 mg daily``).

    >>> label("5_alternate"), label("lupus_headache")
    ('5 mg on alternate days', 'Lupus headache')
    """
    text = str(value)
    if text in LABELS:
        return LABELS[text]
    return text.replace("_", " ").capitalize()


def _date(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _tojson_safe(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block (``<`` escaped)."""
    text = json.dumps(value, default=str, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def options(values: Any) -> list[tuple[str, str]]:
    """``(value, text)`` pairs for a select from plain values.

    >>> options((0, 1))
    [('0', '0'), ('1', '1')]
    """
    return [(str(v), str(v)) for v in values]


def make_environment() -> jinja2.Environment:
    """The Jinja2 environment: package loader, autoescape, strict undefined, filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cletrial.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["label"] = label
    env.filters["field_label"] = field_label
    env.filters["shown"] = shown
    env.filters["date"] = _date
    env.filters["json_script"] = _tojson_safe
    env.filters["options"] = options
    env.globals["trial_scores"] = _trial_score_choices()
    return env


def _trial_score_choices() -> dict[str, Any]:
    """The CLA-IGA and Skindex-29+3 choices of the visit form and page (item numbers only)."""
    from cletrial.vocabulary import SKINDEX_DOMAIN
    from cletrial.web.forms_scores import CLA_IGA_CHOICES, SKINDEX_CHOICES, SKINDEX_FORM_ITEMS

    return {"cla_iga": [(str(v), f"{v} {text.lower()}") for v, text in CLA_IGA_CHOICES],
            "cla_iga_labels": {v: text.lower() for v, text in CLA_IGA_CHOICES},
            "skindex_items": SKINDEX_FORM_ITEMS,
            "skindex": [(str(v), f"{v} {text.lower()}") for v, text in SKINDEX_CHOICES],
            "domains": [(t.value, t.decode) for t in SKINDEX_DOMAIN.terms]}  # fmt: skip


def page_context(request: Request) -> dict[str, Any]:
    """Variables every page gets: the user, the CSRF token, the settings, the current path,
    and for a logged-in user the database's lock state (``db_lock``, cached a few seconds)."""
    session = getattr(request.state, "web_session", None)
    user = getattr(request.state, "user", None)
    banner = getattr(request.app.state, "lock_banner", None)
    return {
        "user": user,
        "csrf_token": session.csrf_token if session is not None else "",
        "settings": request.app.state.settings,
        "path": request.url.path,
        "db_lock": banner.state() if banner is not None and user is not None else None,
    }


def make_templates() -> Jinja2Templates:
    """Templates object used by the page routes (``templates.TemplateResponse``)."""
    return Jinja2Templates(env=make_environment(), context_processors=[page_context])
