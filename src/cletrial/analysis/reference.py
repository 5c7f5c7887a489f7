"""The reference study: Tables 1-3 and summary statistics of the 2012 paper, parsed and validated.

Source: Cortés-Hernández J et al., Arthritis Res Ther 2012;14:R265 (doi:10.1186/ar4111,
NCT01408199). The files live in ``cletrial/data/cortes_hernandez_2012`` with their data
dictionary; this module turns every printed cell into a typed value and rejects anything the
dictionary does not allow, naming file, row and column (:class:`~cletrial.errors.ImportFileError`).

A printed "-" keeps its meaning per column: a negative anti-dsDNA result, no complete response,
no relapse, or (patient 3's follow-up, patient 5's relapse) a value that was not reported, which
is loaded as ``None`` and always reported as missing.

>>> study = load_reference_study()
>>> len(study.table1), len(study.table2), len(study.table3)
(15, 15, 6)
>>> study.table2[4].relapse is None   # patient 5: CR, relapse not reported
True
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from decimal import Decimal
from importlib import resources
from typing import Any, Final

import yaml

from cletrial.errors import ImportFileError
from cletrial.instruments.clasi import CLASI_ACTIVITY_MAX, CLASI_DAMAGE_MAX
from cletrial.vocabulary import AE_CAUSALITY, SEX

__all__ = [
    "DATA_PACKAGE_PATH",
    "REGIMEN_MG_PER_WEEK",
    "AdverseEventRow",
    "BaselineRow",
    "ReferenceStudy",
    "ResponseRow",
    "SummaryStatistic",
    "load_reference_study",
    "load_reference_yaml",
    "read_reference_text",
]

#: Folder of the reference files inside the ``cletrial`` package.
DATA_PACKAGE_PATH: Final = ("data", "cortes_hernandez_2012")

_SUBTYPES: Final[dict[str, tuple[str, str | None]]] = {
    "DLE (L)": ("DLE", "localized"),
    "DLE (G)": ("DLE", "generalized"),
    "Lupus Profundus": ("lupus_profundus", None),
    "SCLE": ("SCLE", None),
    "ACLE": ("ACLE", None),
    "LET": ("LET", None),
}
_REASONS: Final[dict[str, str]] = {
    "T lack of efficacy": "thalidomide_lack_of_efficacy",
    "T side effects": "thalidomide_side_effects",
    "PN": "polyneuropathy",
    "> 18% body surface": "bsa_over_18",
}
_TREATMENTS: Final = ("TCS", "OCS", "HCQ", "T", "AZA", "MMF")
_OUTCOMES: Final[dict[str, str]] = {"CR": "CR", "PR": "PR", "Withdrawn": "withdrawn"}
_RELAPSE: Final[dict[str, bool | None]] = {"Yes": True, "No": False, "-": None}
_RELAPSE_REGIMENS: Final[dict[str, str]] = {
    "5 mg alternate days": "5_alternate",
    "5 mg three times weekly": "5_thrice_weekly",
    "5 mg twice weekly": "5_twice_weekly",
}
#: Causality as the paper's Table 3 spells it: the stored values, capitalised.
_CAUSALITY: Final = tuple(value.capitalize() for value in AE_CAUSALITY.values)

#: Lenalidomide mg per week of each protocol ladder step (to rank doses: lower is less drug).
REGIMEN_MG_PER_WEEK: Final[dict[str, float]] = {
    "10_daily": 70.0,
    "5_daily": 35.0,
    "5_alternate": 17.5,
    "5_thrice_weekly": 15.0,
    "5_twice_weekly": 10.0,
    "off": 0.0,
}


@dataclass(frozen=True)
class BaselineRow:
    """One patient of Table 1 (characteristics at entry); ``diagnosis`` etc. as printed."""

    patient: int
    sex: str
    diagnosis: str
    subtype: str
    dle_extent: str | None
    sites: tuple[str, ...]
    inclusion_reasons: tuple[str, ...]
    ana_titre: int
    anti_dsdna_iu_ml: float | None
    anti_dsdna_positive: bool
    anti_ro_positive: bool
    anti_la_positive: bool
    clasi_activity: int
    clasi_damage: int
    previous_treatments: tuple[str, ...]


@dataclass(frozen=True)
class ResponseRow:
    """One patient of Table 2; ``None`` means the paper did not report the value."""

    patient: int
    outcome: str
    time_to_cr_weeks: int | None
    follow_up_months: int | None
    max_dose_mg: int
    relapse: bool | None
    dose_at_relapse: str | None
    regimen_at_relapse: str | None


@dataclass(frozen=True)
class AdverseEventRow:
    """One adverse event of Table 3; ``grade`` is ``None`` where the table is blank."""

    patient: int
    term: str
    grade: int | None
    causality: str


@dataclass(frozen=True)
class SummaryStatistic:
    """A figure printed without patient-level data; ``values`` keep the printed strings."""

    id: str
    description: str
    section: str
    unit: str
    n: int | None
    values: dict[str, str]

    def value(self, name: str) -> Decimal:
        """Return one printed value as an exact decimal (keeps its printed decimals)."""
        return Decimal(self.values[name])


@dataclass(frozen=True)
class ReferenceStudy:
    """Tables 1-3, the summary statistics and the citation of the reference paper."""

    table1: tuple[BaselineRow, ...]
    table2: tuple[ResponseRow, ...]
    table3: tuple[AdverseEventRow, ...]
    summary: dict[str, SummaryStatistic]
    citation: dict[str, Any]

    def records(self, table: str) -> list[dict[str, Any]]:
        """Return ``table1``, ``table2``, ``table3`` or ``patients`` (1 joined with 2) as dicts."""
        if table == "patients":
            by_patient = {row.patient: asdict(row) for row in self.table2}
            return [asdict(row) | by_patient[row.patient] for row in self.table1]
        rows: tuple[Any, ...] = getattr(self, table)
        return [asdict(row) for row in rows]


def read_reference_text(name: str) -> str:
    """Return the text of one reference file (e.g. ``"claims.yaml"``).

    >>> read_reference_text("table2_response.csv").splitlines()[0]
    'patient,clinical_outcome,time_to_cr_weeks,follow_up_months,max_dose_mg,relapse,dose_at_relapse'
    """
    folder = resources.files("cletrial").joinpath(*DATA_PACKAGE_PATH)
    return folder.joinpath(name).read_text(encoding="utf-8")


def load_reference_yaml(name: str) -> Any:
    """Parse one reference YAML file (with libyaml's safe loader when it is installed).

    >>> sorted(load_reference_yaml("dictionary.yaml"))[:2]
    ['citation', 'conventions']
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(
        read_reference_text(name), Loader=loader
    )  # a safe loader (CSafeLoader or SafeLoader)


class _Cells:
    """Cell parsers bound to one file row, raising ImportFileError with file/row/column."""

    def __init__(self, file: str, row_number: int, row: dict[str, str]) -> None:
        self.file, self.row_number, self.row = file, row_number, row

    def fail(self, column: str, problem: str) -> ImportFileError:
        return ImportFileError(self.file, self.row_number, column, self.row.get(column), problem)

    def text(self, column: str, allowed: tuple[str, ...] | None = None) -> str:
        value = (self.row.get(column) or "").strip()
        if allowed is not None and value not in allowed:
            raise self.fail(column, f"must be one of {', '.join(repr(a) for a in allowed)}")
        return value

    def integer(self, column: str, low: int, high: int) -> int:
        value = self.text(column)
        if not value.isdigit() or not low <= int(value) <= high:
            raise self.fail(column, f"must be an integer from {low} to {high}")
        return int(value)

    def integer_or_dash(self, column: str, low: int, high: int) -> int | None:
        if self.text(column) == "-":
            return None
        value = self.text(column)
        if not value.isdigit() or not low <= int(value) <= high:
            raise self.fail(column, f'must be an integer from {low} to {high} or "-"')
        return int(value)

    def items(self, column: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        parts = tuple(p.strip() for p in self.text(column).split(",") if p.strip())
        for part in parts:
            if part not in allowed:
                raise self.fail(column, f"item {part!r} must be one of {', '.join(allowed)}")
        return parts


def _read_csv(name: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(read_reference_text(name)))
    return [(number, row) for number, row in enumerate(reader, start=2)]


def _baseline_row(cells: _Cells) -> BaselineRow:
    subtype, extent = _SUBTYPES[cells.text("diagnosis", tuple(_SUBTYPES))]
    titre = cells.text("ana_titre")
    if not titre.startswith("1/") or not titre[2:].isdigit():
        raise cells.fail("ana_titre", "must be a titre such as 1/640")
    dsdna = cells.text("anti_dsdna_iu_ml")
    if dsdna != "-" and not dsdna.replace(".", "", 1).isdigit():
        raise cells.fail("anti_dsdna_iu_ml", 'must be a number (IU/ml) or "-" (negative)')
    level = None if dsdna == "-" else float(dsdna)
    return BaselineRow(
        patient=_patient(cells),
        sex=cells.text("sex", SEX.values),
        diagnosis=cells.text("diagnosis"),
        subtype=subtype,
        dle_extent=extent,
        sites=tuple(s.strip() for s in cells.text("site_involvement").split(",")),
        inclusion_reasons=tuple(
            _REASONS[r] for r in cells.items("reason_for_inclusion", tuple(_REASONS))
        ),
        ana_titre=int(titre[2:]),
        anti_dsdna_iu_ml=level,
        anti_dsdna_positive=level is not None and level >= 15.0,
        anti_ro_positive=cells.text("anti_ro", ("+", "-")) == "+",
        anti_la_positive=cells.text("anti_la", ("+", "-")) == "+",
        clasi_activity=cells.integer("clasi_activity", 0, CLASI_ACTIVITY_MAX),
        clasi_damage=cells.integer("clasi_damage", 0, CLASI_DAMAGE_MAX),
        previous_treatments=cells.items("previous_treatment", _TREATMENTS),
    )


def _patient(cells: _Cells) -> int:
    return cells.integer("patient", 1, 999)


def _response_row(cells: _Cells) -> ResponseRow:
    outcome = _OUTCOMES[cells.text("clinical_outcome", tuple(_OUTCOMES))]
    time_to_cr = cells.integer_or_dash("time_to_cr_weeks", 0, 520)
    if (time_to_cr is None) == (outcome == "CR"):
        raise cells.fail("time_to_cr_weeks", "must be given for CR and only for CR")
    dose = cells.text("dose_at_relapse", (*_RELAPSE_REGIMENS, "-"))
    relapse = _RELAPSE[cells.text("relapse", tuple(_RELAPSE))]
    if (dose != "-") != (relapse is True):
        raise cells.fail("dose_at_relapse", 'must be given exactly when relapse is "Yes"')
    return ResponseRow(
        patient=_patient(cells),
        outcome=outcome,
        time_to_cr_weeks=time_to_cr,
        follow_up_months=cells.integer_or_dash("follow_up_months", 0, 240),
        max_dose_mg=cells.integer("max_dose_mg", 5, 10),
        relapse=relapse,
        dose_at_relapse=None if dose == "-" else dose,
        regimen_at_relapse=_RELAPSE_REGIMENS.get(dose),
    )


def _adverse_event_row(cells: _Cells) -> AdverseEventRow:
    grade_text = cells.text("nci_toxicity_grade", ("", *(f"Grade {g}" for g in range(1, 6))))
    return AdverseEventRow(
        patient=_patient(cells),
        term=cells.text("adverse_event"),
        grade=int(grade_text[-1]) if grade_text else None,
        causality=cells.text("causality", _CAUSALITY),
    )


def _summary_statistics() -> dict[str, SummaryStatistic]:
    document = load_reference_yaml("summary_statistics.yaml")
    out: dict[str, SummaryStatistic] = {}
    for item in document["statistics"]:
        values = {str(k): str(v) for k, v in item["values"].items()}
        for key, text in values.items():
            try:
                Decimal(text)
            except ArithmeticError:
                raise ImportFileError(
                    "summary_statistics.yaml",
                    0,
                    f"{item['id']}.values.{key}",
                    text,
                    "must be a number written as a string",
                ) from None
        n = item.get("n")
        out[item["id"]] = SummaryStatistic(
            id=item["id"],
            description=item["description"],
            section=item["section"],
            unit=item["unit"],
            n=None if n is None else int(n),
            values=values,
        )
    return out


def load_reference_study() -> ReferenceStudy:
    """Load and validate Tables 1-3 and the summary statistics of the 2012 paper.

    Returns
    -------
    ReferenceStudy
        ``table1`` (15 patients), ``table2`` (15 patients), ``table3`` (6 adverse events), the
        summary statistics by id and the citation from the data dictionary.

    Raises
    ------
    ImportFileError
        A cell that the data dictionary does not allow (names file, row and column).

    Examples
    --------
    >>> study = load_reference_study()
    >>> [r.patient for r in study.table2 if r.outcome == "PR"]
    [9, 13]
    >>> str(study.summary["clasi_activity_week2"].value("mean"))
    '4.13'
    """
    parsed: list[list[Any]] = []
    for name, parse in (
        ("table1_baseline.csv", _baseline_row),
        ("table2_response.csv", _response_row),
        ("table3_adverse_events.csv", _adverse_event_row),
    ):
        parsed.append([parse(_Cells(name, n, row)) for n, row in _read_csv(name)])
    table1, table2, table3 = parsed
    if [r.patient for r in table1] != [r.patient for r in table2]:
        raise ImportFileError(
            "table2_response.csv",
            0,
            "patient",
            [r.patient for r in table2],
            "must list the same patients, in the same order, as table1_baseline.csv",
        )
    dictionary = load_reference_yaml("dictionary.yaml")
    return ReferenceStudy(
        table1=tuple(table1),
        table2=tuple(table2),
        table3=tuple(table3),
        summary=_summary_statistics(),
        citation=dict(dictionary["citation"]),
    )
