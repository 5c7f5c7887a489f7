"""The screening form: its fields (declared as data) and the parser to a screening record.

Every item may be left unknown: eligibility then reports the criterion as undetermined and
lists what is missing, never treating it as normal. Yes/no items are three-way selects
(unknown, yes, no).

>>> record, patient, errors = parse_screening_form({"study_code": "S-01", "site_id": "1",
...     "screening_date": "2024-01-10", "age_years": "40", "thalidomide.lack_of_efficacy": "yes"})
>>> errors, record["age_years"], record["thalidomide"]
({}, 40, {'lack_of_efficacy': True})
"""

# ruff: noqa: E501
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Final

from cletrial.errors import InputError
from cletrial.instruments import CLASI_REGIONS, RULE_OF_NINES, check_lab_value
from cletrial.store.vocab import LAB_UNITS
from cletrial.values import read_typed_decimal, read_typed_int

__all__ = ["SCREENING_SECTIONS", "parse_screening_form", "screening_lab_tests"]

#: (section title, [(field name, label, kind, hint)]); kind: tri, int, float, date.
SCREENING_SECTIONS: Final = (
    ("Diagnosis", (
        ("age_years", "Age at screening (years)", "int", "I1: 18 or over"),
        ("cle_histology_confirmed", "CLE histologically proven", "tri", "I2"),
        ("sle_acr_criteria", "SLE by ACR classification criteria", "tri", "I2: with or without SLE"),
    )),
    ("Background and previous treatment", (
        ("background_therapy.stable_days", "Background therapy stable for (days)", "int", "I4: at least 30"),
        ("background_therapy.prednisone_mg_per_day", "Prednisone (mg/day)", "float", "I4: below 10"),
        ("background_therapy.antimalarial", "Background antimalarial", "tri", ""),
        ("background_therapy.immunosuppressant", "Background immunosuppressant", "tri", ""),
        ("conventional_treatment.antimalarial", "Treated with antimalarials", "tri", "I5"),
        ("conventional_treatment.topical_steroids", "Treated with topical steroids", "tri", "I5"),
        ("conventional_treatment.months", "Months of conventional treatment", "float", "I5: at least 3"),
        ("conventional_treatment.refractory", "Refractory to it", "tri", "I5"),
        ("thalidomide.severe_side_effects", "Severe thalidomide side effects", "tri", "I6"),
        ("thalidomide.lack_of_efficacy", "Lack of efficacy of thalidomide", "tri", "I6"),
        ("thalidomide.hypersensitivity", "Known hypersensitivity to thalidomide", "tri", "E1"),
        ("bsa_percent", "Body surface involved (%), if known directly", "float", "I6: above 18% (or the rule-of-nines areas below)"),
    )),
    ("Exclusions", (
        ("pregnant", "Pregnant", "tri", "E2"),
        ("lactating", "Lactating", "tri", "E2"),
        ("reproductive_potential", "Of reproductive potential", "tri", "E2"),
        ("adequate_contraception", "Using adequate contraception", "tri", "E2"),
        ("active_sle_requiring_immunosuppressants", "Active SLE needing systemic immunosuppressants", "tri", "E3"),
        ("thrombosis_history", "History of arterial or venous thrombosis", "tri", "E5"),
        ("antiphospholipid_antibodies", "Antiphospholipid antibodies present", "tri", "E6"),
        ("egfr", "eGFR (ml/min/1.73 m2)", "float", "E7: below 30 excludes"),
        ("progressive_renal_disease", "Progressive renal disease", "tri", "E7"),
        ("psychiatric_or_social_disorder", "Psychiatric or social disorder interfering with follow-up", "tri", "E8"),
        ("hiv", "HIV infection", "tri", "E9"),
        ("viral_hepatitis", "Viral hepatitis", "tri", "E9"),
    )),
)  # fmt: skip

#: Lab tests asked at screening (E4) with their default units.
_SCREENING_LABS: Final = (("platelets", "/mm3"), ("wbc", "/mm3"), ("neutrophils", "/uL"))
_PATIENT_FIELDS: Final = ("sex", "cle_subtype", "diagnosis_date")


def screening_lab_tests() -> tuple[tuple[str, str], ...]:
    """The screening lab tests and their default units (criterion E4).

    >>> screening_lab_tests()[0]
    ('platelets', '/mm3')
    """
    return _SCREENING_LABS


def _set(record: dict[str, Any], dotted: str, value: Any) -> None:
    node = record
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _value(kind: str, raw: str) -> Any:
    if kind == "tri":
        if raw == "yes":
            return True
        if raw == "no":
            return False
        raise ValueError("choose yes, no or unknown")
    if kind == "int":
        number: int | float = read_typed_int(raw)
    elif kind == "float":
        number = read_typed_decimal(raw)
        if not math.isfinite(number):
            raise ValueError
    else:
        return dt.date.fromisoformat(raw)
    if number < 0:
        raise ValueError
    return number


def _problem(kind: str, raw: str) -> str:
    return {"int": f'"{raw}" is not allowed: give a whole number, 0 or more',
            "float": f'"{raw}" is not allowed: give a number, 0 or more',
            "date": f'"{raw}" is not a date: use YYYY-MM-DD',
            "tri": "choose yes, no or unknown"}[kind]  # fmt: skip


def _lab_rows(
    raw: Any, record: dict[str, Any], errors: dict[str, str], today: dt.date | None
) -> list[dict[str, Any]]:
    labs = []
    for test, _unit in _SCREENING_LABS:
        text = raw(f"lab.{test}.value")
        if not text:
            continue
        unit = raw(f"lab.{test}.unit")
        try:
            number = read_typed_decimal(text)
        except ValueError:
            errors[f"lab.{test}.value"] = f'"{text}" is not a number'
            continue
        if unit not in LAB_UNITS[test]:
            errors[f"lab.{test}.unit"] = ("choose the unit the laboratory reported: "
                                          + ", ".join(LAB_UNITS[test]))  # fmt: skip
            continue
        try:
            check_lab_value(test, number, unit)
        except InputError as exc:
            errors[f"lab.{test}.value"] = exc.problem
            continue
        try:
            day = dt.date.fromisoformat(raw(f"lab.{test}.date") or record.get("screening_date", ""))
        except ValueError:
            errors[f"lab.{test}.date"] = "give the sample date (YYYY-MM-DD)"
            continue
        if today is not None and day > today:
            errors[f"lab.{test}.date"] = f"{day.isoformat()} is in the future (today is {today})"
            continue
        labs.append({"date": day.isoformat(), "test": test, "value": number, "unit": unit})
    return labs


def parse_screening_form(
    data: Mapping[str, Any], today: dt.date | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Parse the screening form into ``(screening record, patient fields, field errors)``.

    The patient fields are ``site_id``, ``study_code``, ``screening_date``, ``sex``,
    ``cle_subtype``, ``diagnosis_date``, ``reproductive_potential`` and ``sle``. A date after
    ``today`` (the study's) is an error; a blank is unknown, never normal; a CLASI ticked as
    assessed must have every region's erythema chosen.
    """
    errors: dict[str, str] = {}

    def raw(name: str) -> str:
        return str(data.get(name, "") or "").strip()

    record: dict[str, Any] = {}
    patient: dict[str, Any] = {"study_code": raw("study_code"), "site_id": raw("site_id")}
    if not patient["study_code"]:
        errors["study_code"] = "give the patient's study code (pseudonymous, no names)"
    if not patient["site_id"].isdigit():
        errors["site_id"] = "choose the site"
    try:
        screened = dt.date.fromisoformat(raw("screening_date"))
    except ValueError:
        errors["screening_date"] = "a date is required (YYYY-MM-DD)"
    else:
        if today is not None and screened > today:
            errors["screening_date"] = (f"{screened.isoformat()} is in the future (today is "
                                        f"{today.isoformat()}): screen on or before today")  # fmt: skip
        else:
            record["screening_date"] = patient["screening_date"] = screened.isoformat()
    for name in _PATIENT_FIELDS:
        if raw(name):
            patient[name] = raw(name)
    if raw("sex"):
        record["sex"] = raw("sex")
    for _title, fields in SCREENING_SECTIONS:
        for name, _label, kind, _hint in fields:
            if not raw(name):
                continue
            try:
                value = _value(kind, raw(name))
            except ValueError:
                errors[name] = _problem(kind, raw(name))
                continue
            if name == "bsa_percent" and value > 100:
                errors[name] = f'"{raw(name)}" is not allowed: a percentage, 0 to 100'
                continue
            _set(record, name, value)
    if raw("clasi_assessed") == "on":
        regions, blank = {}, []
        for region in CLASI_REGIONS:
            value = raw(f"clasi.{region}.erythema")
            if not value:
                blank.append(region)
                errors[f"clasi.{region}.erythema"] = "is blank: choose 0 when absent"
            elif value not in ("0", "1", "2", "3"):
                errors[f"clasi.{region}.erythema"] = f'"{value}" is not allowed: 0, 1, 2 or 3'
            elif value != "0":
                regions[region] = {"erythema": int(value)}
        if blank:
            errors["clasi_assessed"] = (f"{len(blank)} regions are blank ({', '.join(blank[:5])}"
                                        f"{', ...' if len(blank) > 5 else ''}): choose 0 when "
                                        "absent, or untick CLASI if it was not assessed")  # fmt: skip
        else:
            record["clasi"] = {"regions": regions}
    areas = {}
    for area in RULE_OF_NINES:
        text = raw(f"body_surface.{area}")
        if not text:
            continue
        try:
            percent = read_typed_decimal(text)
        except ValueError:
            percent = -1.0
        if not 0 <= percent <= 100:
            errors[f"body_surface.{area}"] = (f'"{text}" is not allowed: give the percent of '
                                              "the area involved, 0 to 100")  # fmt: skip
            continue
        areas[area] = percent / 100
    if areas:
        record["body_surface"] = areas
    labs = _lab_rows(raw, record, errors, today)
    if labs:
        record["labs"] = labs
    if "reproductive_potential" in record:
        patient["reproductive_potential"] = record["reproductive_potential"]
    if "sle_acr_criteria" in record:
        patient["sle"] = record["sle_acr_criteria"]
    return record, patient, errors
