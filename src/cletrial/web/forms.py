"""Parse the HTML forms of the pages into the API's request bodies, with per-field errors.

Field names are flat and dotted (``clasi.arms.erythema``, ``lab.neutrophils.value``,
``ae-0.grade``) so each error is shown next to its field. The result is the same body the REST
API takes (:class:`~cletrial.web.schemas.VisitCreate`), so a page save and an API save store
exactly the same thing, and the live preview shows what a save would store.

>>> body, errors = parse_visit_form({"visit_date": "2009-02-02", "kind": "baseline",
...                                  "clasi_assessed": "on", "clasi.arms.erythema": "2"})
>>> errors, body["clasi"]["regions"]["arms"]["erythema"]
({}, 2)
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Final

from cletrial.instruments import CLASI_REGIONS, SLEDAI_WEIGHTS
from cletrial.store.repositories.events import find_adverse_event_problems
from cletrial.store.vocab import LAB_UNITS

__all__ = [
    "AE_ROWS",
    "CLASI_ONCE_ITEMS",
    "LAB_FORM_TESTS",
    "SLEDAI_FLAGS",
    "parse_visit_form",
    "region_items",
    "visit_form_values",
]

#: Lab tests on the visit form, in order.
LAB_FORM_TESTS: Final = ("neutrophils", "wbc", "platelets", "hemoglobin", "anti_dsdna", "c3", "c4")
#: Blank adverse event rows offered on a new visit form.
AE_ROWS: Final = 2
#: Once-per-form CLASI items with their choices.
CLASI_ONCE_ITEMS: Final = (
    ("mucous_membrane_lesions", "Mucous membrane lesions", (0, 1)),
    ("recent_hair_loss", "Recent hair loss", (0, 1)),
    ("nonscarring_alopecia", "Non-scarring alopecia", (0, 1, 2, 3)),
    ("scarring_alopecia", "Scarring of the scalp (scarring alopecia)", (0, 3, 4, 5, 6)),
)
#: SLEDAI-2K drug-attribution flags.
SLEDAI_FLAGS: Final = ("thrombocytopenia_drug_induced", "leukopenia_drug_induced")

_REGION_ITEMS: Final = {
    "erythema": (0, 1, 2, 3),
    "scale": (0, 1, 2),
    "dyspigmentation": (0, 1),
    "scarring": (0, 1, 2),
}


def region_items(region: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Items of a CLASI region with their choices (the scalp has no ``scarring``).

    >>> [name for name, _ in region_items("scalp")]
    ['erythema', 'scale', 'dyspigmentation']
    """
    names = ("erythema", "scale", "dyspigmentation") if region == "scalp" else tuple(_REGION_ITEMS)
    return tuple((name, _REGION_ITEMS[name]) for name in names)


class _Parser:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def text(self, name: str, max_length: int = 200) -> str | None:
        value = str(self.data.get(name, "") or "").strip()
        if len(value) > max_length:
            self.errors[name] = f"must be at most {max_length} characters"
            return None
        return value or None

    def date(self, name: str, required: bool = False) -> dt.date | None:
        value = self.text(name, 10)
        if value is None:
            if required:
                self.errors[name] = "a date is required (YYYY-MM-DD)"
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.errors[name] = f'"{value}" is not a date: use YYYY-MM-DD'
            return None

    def choice(self, name: str, choices: tuple[int, ...]) -> int:
        raw = str(self.data.get(name, "0") or "0")
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value not in choices:
            self.errors[name] = "must be " + ", ".join(map(str, choices))
            return 0
        return value

    def number(self, name: str) -> float | None:
        raw = self.text(name, 30)
        if raw is None:
            return None
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            self.errors[name] = f'"{raw}" is not a number'
            return None
        if not math.isfinite(value) or value < 0:
            self.errors[name] = "must be a number of 0 or more"
            return None
        return value

    def integer(self, name: str, low: int, high: int) -> int | None:
        raw = self.text(name, 12)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            self.errors[name] = f'"{raw}" is not a whole number'
            return None
        if not low <= value <= high:
            self.errors[name] = f"must be from {low} to {high}"
            return None
        return value

    def flag(self, name: str) -> bool:
        return str(self.data.get(name, "")).lower() in {"on", "true", "1", "yes"}


def _clasi(p: _Parser) -> dict[str, Any]:
    regions: dict[str, dict[str, int]] = {}
    for region in CLASI_REGIONS:
        items = {item: p.choice(f"clasi.{region}.{item}", ch) for item, ch in region_items(region)}
        if any(items.values()):
            regions[region] = {k: v for k, v in items.items() if v}
    form: dict[str, Any] = {"regions": regions}
    for name, _label, choices in CLASI_ONCE_ITEMS:
        form[name] = p.choice(f"clasi.{name}", choices)
    form["dyspigmentation_persistent"] = p.flag("clasi.dyspigmentation_persistent")
    return form


def _labs(p: _Parser, visit_date: dt.date | None) -> list[dict[str, Any]]:
    labs = []
    for test in LAB_FORM_TESTS:
        value = p.number(f"lab.{test}.value")
        if value is None:
            continue
        unit = p.text(f"lab.{test}.unit", 12) or LAB_UNITS[test][0]
        if unit not in LAB_UNITS[test]:
            p.errors[f"lab.{test}.unit"] = "must be one of " + ", ".join(LAB_UNITS[test])
            continue
        lab: dict[str, Any] = {"test": test, "value": value, "unit": unit}
        lln = p.number(f"lab.{test}.lln")
        if lln is not None:
            lab["lln"] = lln
        labs.append(lab)
    return labs


def _adverse_events(p: _Parser) -> list[dict[str, Any]]:
    rows = sorted({k.split(".")[0] for k in p.data if str(k).startswith("ae-")})
    events = []
    for row in rows:
        term = p.text(f"{row}.term")
        if term is None:
            continue
        event: dict[str, Any] = {"term": term}
        event["start_date"] = p.date(f"{row}.start_date", required=True)
        event["end_date"] = p.date(f"{row}.end_date")
        event["grade"] = p.integer(f"{row}.grade", 1, 5)
        if event["grade"] is None and f"{row}.grade" not in p.errors:
            p.errors[f"{row}.grade"] = "give the CTCAE grade, 1 to 5"
        causality = p.text(f"{row}.causality", 20)
        if causality is None:
            p.errors[f"{row}.causality"] = "give the causality"
        event["causality"] = causality
        event["serious"] = p.flag(f"{row}.serious")
        event["serious_criterion"] = p.text(f"{row}.serious_criterion", 40)
        event["outcome"] = p.text(f"{row}.outcome", 30)
        for name, problem in find_adverse_event_problems(event).items():
            p.errors.setdefault(f"{row}.{name}", problem)
        events.append(event)
    return events


def parse_visit_form(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse a visit form into a :class:`VisitCreate`-shaped dict and field errors.

    Parameters
    ----------
    data : mapping
        Form field name -> value (strings; a ticked checkbox is ``"on"``).

    Returns
    -------
    (dict, dict)
        The body (forms omitted when not assessed) and field name -> error message.
    """
    p = _Parser(data)
    body: dict[str, Any] = {"visit_date": p.date("visit_date", required=True)}
    kind = p.text("kind", 12) or "scheduled"
    if kind not in ("baseline", "scheduled", "unscheduled"):
        p.errors["kind"] = "must be baseline, scheduled or unscheduled"
    body["kind"] = kind
    body["label"] = p.text("label", 40)
    medications = p.text("medications", 4000)
    body["medications"] = (
        [m.strip() for m in medications.splitlines() if m.strip()] if medications else None
    )
    body["notes"] = p.text("notes", 4000)
    if p.flag("clasi_assessed"):
        body["clasi"] = _clasi(p)
    if p.flag("sledai_assessed"):
        form = {name: True for name in (*SLEDAI_WEIGHTS, *SLEDAI_FLAGS) if p.flag(f"sledai.{name}")}
        body["sledai"] = form
    body["labs"] = _labs(p, body["visit_date"])
    body["adverse_events"] = _adverse_events(p)
    regimen = p.text("dose.regimen", 20)
    if regimen:
        body["dose"] = {"regimen": regimen, "start_date": p.date("dose.start_date")}
    return body, p.errors


def visit_form_values(visit: Any, clasi: Any, sledai: Any, labs: list[Any]) -> dict[str, Any]:
    """Form field values of a stored visit (for the edit form).

    >>> visit_form_values(None, None, None, [])["clasi_assessed"]
    'on'
    """
    values: dict[str, Any] = {"clasi_assessed": "on", "sledai_assessed": "on"}
    if visit is not None:
        values.update(
            visit_date=visit.visit_date.isoformat(), kind=visit.kind, label=visit.label or "",
            medications="\n".join(visit.medications or ()), notes=visit.notes or "",
            version=visit.version,
            clasi_assessed="on" if clasi is not None else "",
            sledai_assessed="on" if sledai is not None else "",
        )  # fmt: skip
    if clasi is not None and clasi.form is not None:
        form = clasi.form
        for region in CLASI_REGIONS:
            items = getattr(form.regions, region)
            for item, _choices in region_items(region):
                values[f"clasi.{region}.{item}"] = getattr(items, item)
        for name, _label, _choices in CLASI_ONCE_ITEMS:
            values[f"clasi.{name}"] = getattr(form, name)
        values["clasi.dyspigmentation_persistent"] = "on" if form.dyspigmentation_persistent else ""
    if clasi is not None:
        values["clasi_version"] = clasi.version
    if sledai is not None:
        values["sledai_version"] = sledai.version
        if sledai.form is not None:
            for name in (*SLEDAI_WEIGHTS, *SLEDAI_FLAGS):
                values[f"sledai.{name}"] = "on" if getattr(sledai.form, name) else ""
    for lab in labs:
        values[f"lab.{lab.test}.value"] = _number(lab.value)
        values[f"lab.{lab.test}.unit"] = lab.unit
        values[f"lab.{lab.test}.lln"] = "" if lab.lln is None else _number(lab.lln)
        values[f"lab.{lab.test}.version"] = lab.version
    return values


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
