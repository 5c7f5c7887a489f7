"""Parse the HTML forms of the pages into the API's request bodies, with per-field errors.

Field names are flat and dotted (``clasi.arms.erythema``, ``lab.neutrophils.value``,
``ae-0.grade``) so each error is shown next to its field. The result is the same body the REST
API takes (:class:`~cletrial.web.schemas_clinical.VisitCreate`), so a page save and an API save
store exactly the same thing, and the live preview shows what a save would store.

A section counts only when ticked as assessed and every item is entered: a blank is missing,
never 0, and each blank cell is named.

>>> body, errors = parse_visit_form({"visit_date": "2009-02-02", "kind": "baseline",
...                                  "clasi_assessed": "on", "clasi.arms.erythema": "2"})
>>> body["clasi"]["regions"]["arms"]["erythema"], errors["clasi.scalp.erythema"]
(2, 'is blank: choose 0 when absent')
>>> errors["clasi_assessed"][:60]
'54 CLASI items are blank (scalp erythema, scalp scale, scalp'
>>> parse_visit_form({"visit_date": "2009-02-02", "lab.neutrophils.value": "3800",
...                   "lab.neutrophils.unit": "10^9/L"})[1]["lab.neutrophils.value"][:40]
'3800 10^9/L is impossible for Neutrophil'
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Final

from cletrial.errors import InputError
from cletrial.instruments import CLASI_REGIONS, SLEDAI_WEIGHTS, check_lab_value
from cletrial.store.repositories.events import find_adverse_event_problems
from cletrial.store.vocab import LAB_UNITS
from cletrial.values import read_typed_decimal, read_typed_int
from cletrial.vocabulary import LAB_TEST, VISIT_KIND
from cletrial.web.forms_scores import parse_trial_scores, preview_trial_scores, trial_score_values

__all__ = [
    "AE_ROWS",
    "CLASI_ONCE_ITEMS",
    "LAB_FORM_TESTS",
    "SLEDAI_FLAGS",
    "parse_visit_form",
    "preview_trial_scores",
    "region_items",
    "visit_form_values",
]

#: Lab tests on the visit form, in order.
LAB_FORM_TESTS: Final = LAB_TEST.values
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
    def __init__(self, data: Mapping[str, Any], today: dt.date | None = None) -> None:
        self.data = data
        self.today = today
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
            date = dt.date.fromisoformat(value)
        except ValueError:
            self.errors[name] = f'"{value}" is not a date: use YYYY-MM-DD'
            return None
        if self.today is not None and date > self.today:
            self.errors[name] = (f"{value} is in the future (today is {self.today.isoformat()}): "
                                 "nothing may be dated after today")  # fmt: skip
            return None
        return date

    def choice(self, name: str, choices: tuple[int, ...]) -> int | None:
        """A scored item: ``None`` when left blank (missing, never 0)."""
        raw = str(self.data.get(name, "") or "").strip()
        if not raw:
            return None
        try:
            value = read_typed_int(raw)
        except ValueError:
            value = -1
        if value not in choices:
            self.errors[name] = f'"{raw}" is not allowed: choose ' + ", ".join(map(str, choices))
            return None
        return value

    def yes_no(self, name: str) -> bool | None:
        """A present/absent item: ``None`` when left blank."""
        raw = str(self.data.get(name, "") or "").strip().lower()
        if raw in {"yes", "on", "true", "1", "present"}:
            return True
        if raw in {"no", "false", "0", "absent"}:
            return False
        if raw:
            self.errors[name] = f'"{raw}" is not allowed: choose present or absent'
        return None

    def number(self, name: str) -> float | None:
        raw = self.text(name, 30)
        if raw is None:
            return None
        try:
            value = read_typed_decimal(raw)
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
            value = read_typed_int(raw)
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
    """The CLASI grid: every cell must be chosen (0 when absent); blank cells are named."""
    regions: dict[str, dict[str, int | None]] = {}
    blank: list[str] = []
    for region in CLASI_REGIONS:
        regions[region] = {}
        for item, choices in region_items(region):
            name = f"clasi.{region}.{item}"
            regions[region][item] = value = p.choice(name, choices)
            if value is None and name not in p.errors:
                blank.append(name)
    form: dict[str, Any] = {"regions": regions}
    for item, _label, choices in CLASI_ONCE_ITEMS:
        form[item] = value = p.choice(f"clasi.{item}", choices)
        if value is None and f"clasi.{item}" not in p.errors:
            blank.append(f"clasi.{item}")
    form["dyspigmentation_persistent"] = p.flag("clasi.dyspigmentation_persistent")
    _blank_cells(p, blank, "clasi_assessed", "CLASI", "choose 0 when absent")
    return form


def _blank_cells(p: _Parser, blank: list[str], section: str, name: str, hint: str) -> None:
    for cell in blank:
        p.errors[cell] = f"is blank: {hint}"
    if blank:
        shown = ", ".join(_cell_label(cell) for cell in blank[:6])
        more = f" and {len(blank) - 6} more" if len(blank) > 6 else ""
        p.errors[section] = (f"{len(blank)} {name} item{'s are' if len(blank) > 1 else ' is'} "
                             f"blank ({shown}{more}): {hint}, or untick the section if it was "
                             "not assessed")  # fmt: skip


def _cell_label(cell: str) -> str:
    """``clasi.scalp.erythema`` -> ``scalp erythema``."""
    return " ".join(cell.split(".")[1:]).replace("_", " ")


def _sledai(p: _Parser) -> dict[str, Any]:
    """The SLEDAI-2K descriptors: each present or absent (blank is named)."""
    form: dict[str, Any] = {}
    blank = []
    for name in SLEDAI_WEIGHTS:
        form[name] = value = p.yes_no(f"sledai.{name}")
        if value is None and f"sledai.{name}" not in p.errors:
            blank.append(f"sledai.{name}")
    for cytopenia, flag in zip(("thrombocytopenia", "leukopenia"), SLEDAI_FLAGS, strict=True):
        if form.get(cytopenia):
            form[flag] = p.flag(f"sledai.{flag}")
    _blank_cells(p, blank, "sledai_assessed", "SLEDAI-2K", "choose present or absent")
    return form


def _labs(p: _Parser, visit_date: dt.date | None) -> list[dict[str, Any]]:
    """Lab rows: a value needs a unit of the test; impossible values are refused here, and an
    improbable one needs its confirmation box ticked (``lab.<test>.confirmed``)."""
    labs = []
    for test in LAB_FORM_TESTS:
        value = p.number(f"lab.{test}.value")
        if value is None:
            continue
        unit = p.text(f"lab.{test}.unit", 12)
        if unit is None or unit not in LAB_UNITS[test]:
            p.errors[f"lab.{test}.unit"] = "choose the unit the laboratory reported: " + ", ".join(
                LAB_UNITS[test]
            )
            continue
        confirmed = p.flag(f"lab.{test}.confirmed")
        try:
            checked = check_lab_value(test, value, unit)
        except InputError as exc:
            p.errors[f"lab.{test}.{exc.field}"] = exc.problem
            continue
        if checked.improbable and not confirmed:
            p.errors[f"lab.{test}.value"] = checked.message
            p.errors[f"lab.{test}.confirmed"] = "tick to confirm this value is right"
        lab: dict[str, Any] = {"test": test, "value": value, "unit": unit}
        if confirmed:
            lab["confirmed"] = True
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


def parse_visit_form(
    data: Mapping[str, Any], today: dt.date | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse a visit form into a :class:`VisitCreate`-shaped dict and field errors.

    Parameters
    ----------
    data : mapping
        Form field name -> value (strings; a ticked checkbox is ``"on"``).
    today : date, optional
        Today in the study's time zone: a later date is an error on its field.

    Returns
    -------
    (dict, dict)
        The body (forms omitted when not assessed) and field name -> error message.
    """
    p = _Parser(data, today)
    body: dict[str, Any] = {"visit_date": p.date("visit_date", required=True)}
    kind = p.text("kind", 12) or "scheduled"
    if kind not in VISIT_KIND.values:
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
        body["sledai"] = _sledai(p)
    body.update(parse_trial_scores(data, p.errors))
    body["labs"] = _labs(p, body["visit_date"])
    body["adverse_events"] = _adverse_events(p)
    regimen = p.text("dose.regimen", 20)
    if regimen:
        body["dose"] = {"regimen": regimen, "start_date": p.date("dose.start_date")}
    return body, p.errors


def visit_form_values(
    visit: Any, clasi: Any, sledai: Any, labs: list[Any], skindex: Any = None
) -> dict[str, Any]:
    """Form field values of a stored visit (for the edit form), with its CLA-IGA grade and
    Skindex-29+3 responses (:mod:`cletrial.web.forms_scores`).

    A new form starts with no section assessed and every cell blank.

    >>> visit_form_values(None, None, None, [])["clasi_assessed"]
    ''
    """
    values: dict[str, Any] = {"clasi_assessed": "", "sledai_assessed": ""}
    values.update(trial_score_values(visit, skindex))
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
                present = getattr(sledai.form, name)
                values[f"sledai.{name}"] = (("yes" if present else "no") if name in SLEDAI_WEIGHTS
                                            else ("on" if present else ""))  # fmt: skip
    for lab in labs:
        values[f"lab.{lab.test}.value"] = _number(lab.value)
        values[f"lab.{lab.test}.unit"] = lab.unit
        values[f"lab.{lab.test}.lln"] = "" if lab.lln is None else _number(lab.lln)
        values[f"lab.{lab.test}.version"] = lab.version
        values[f"lab.{lab.test}.confirmed"] = "on" if lab.value_confirmed else ""
    return values


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
