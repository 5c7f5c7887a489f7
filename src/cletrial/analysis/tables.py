"""Tables 1, 2 and 3 of the reference study, as listings and as summaries.

A :class:`ReportTable` is a titled grid of strings with footnotes: the report renders it as HTML
and the golden tests pin its JSON. Listings reproduce the paper's tables cell by cell (with what
"-" means spelled out); summaries recompute n (%), exact 95% intervals, mean ± SD and median
(range) from them. A value the paper did not report is shown as ``not reported``, never as 0.

>>> from cletrial.analysis.reference import load_reference_study
>>> table = compute_response_summary(load_reference_study())
>>> table.rows[0]
('Complete response, per protocol (excluding the withdrawn patient)', '12/14 (86%); 95% CI 57-98%')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cletrial.analysis.reference import ReferenceStudy
from cletrial.analysis.statistics import compute_distribution, compute_proportion

__all__ = [
    "NOT_REPORTED",
    "ReportTable",
    "compute_adverse_event_summary",
    "compute_baseline_summary",
    "compute_response_summary",
    "compute_table1",
    "compute_table2",
    "compute_table3",
]

NOT_REPORTED = "not reported"
_SUBTYPE_LABELS = {
    "DLE": "DLE",
    "lupus_profundus": "Lupus profundus",
    "SCLE": "SCLE",
    "ACLE": "ACLE",
    "LET": "LET",
}
_REASON_LABELS = {
    "thalidomide_lack_of_efficacy": "thalidomide lack of efficacy",
    "thalidomide_side_effects": "thalidomide side effects",
    "polyneuropathy": "polyneuropathy",
    "bsa_over_18": "> 18% body surface",
}
_OUTCOME_LABELS = {"CR": "CR", "PR": "PR", "withdrawn": "Withdrawn (week 1)"}


@dataclass(frozen=True)
class ReportTable:
    """A titled table of strings with footnotes (what was inferred, what is missing)."""

    id: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footnotes: tuple[str, ...] = ()

    @property
    def summary(self) -> pd.DataFrame:
        """The table as a DataFrame (all cells strings)."""
        return pd.DataFrame(list(self.rows), columns=list(self.columns))

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape."""
        return {
            "id": self.id,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
            "footnotes": list(self.footnotes),
        }


def _text(value: object) -> str:
    return NOT_REPORTED if value is None else str(value)


def compute_table1(study: ReferenceStudy) -> ReportTable:
    """Table 1 of the paper: patient characteristics at entry, one row per patient.

    Examples
    --------
    >>> from cletrial.analysis.reference import load_reference_study
    >>> compute_table1(load_reference_study()).rows[0][:3]
    ('1', 'F', 'DLE (L)')
    """
    rows = []
    for r in study.table1:
        dsdna = "negative" if r.anti_dsdna_iu_ml is None else f"{r.anti_dsdna_iu_ml:g}"
        rows.append(
            (
                str(r.patient),
                r.sex,
                r.diagnosis,
                ", ".join(r.sites),
                "; ".join(_REASON_LABELS[x] for x in r.inclusion_reasons),
                f"1/{r.ana_titre}",
                dsdna,
                f"{'+' if r.anti_ro_positive else '-'}/{'+' if r.anti_la_positive else '-'}",
                f"{r.clasi_activity}/{r.clasi_damage}",
                ", ".join(r.previous_treatments),
            )
        )
    return ReportTable(
        "table1",
        "Table 1. Patient characteristics at entry (as published)",
        (
            "Patient",
            "Sex",
            "Diagnosis",
            "Sites",
            "Reason for inclusion",
            "ANA",
            "Anti-dsDNA (IU/ml)",
            "Anti-Ro/La",
            "CLASI A/D",
            "Previous treatment",
        ),
        tuple(rows),
        (
            "Anti-dsDNA normal < 15 IU/ml; 'negative' is the paper's '-'. (L) localized, (G) "
            "generalized. TCS topical steroids, OCS oral corticosteroids, HCQ hydroxychloroquine, "
            "T thalidomide, AZA azathioprine, MMF mycophenolate mofetil.",
        ),
    )


def compute_table2(study: ReferenceStudy) -> ReportTable:
    """Table 2 of the paper: clinical response, one row per patient.

    Examples
    --------
    >>> from cletrial.analysis.reference import load_reference_study
    >>> compute_table2(load_reference_study()).rows[4]
    ('5', 'CR', '36', '19', '5', 'not reported', '-')
    """
    rows = []
    for r in study.table2:
        relapse = {True: "Yes", False: "No", None: NOT_REPORTED}[r.relapse]
        if r.outcome != "CR":
            relapse = "not applicable (no CR)"
        rows.append(
            (
                str(r.patient),
                _OUTCOME_LABELS[r.outcome],
                "-" if r.time_to_cr_weeks is None else str(r.time_to_cr_weeks),
                _text(r.follow_up_months),
                str(r.max_dose_mg),
                relapse,
                r.dose_at_relapse or "-",
            )
        )
    return ReportTable(
        "table2",
        "Table 2. Clinical response (as published)",
        (
            "Patient",
            "Outcome",
            "Time to CR (weeks)",
            "Follow-up (months)",
            "Maximum dose (mg/day)",
            "Relapse",
            "Dose at relapse",
        ),
        tuple(rows),
        (
            "Patient 3's follow-up and patient 5's relapse status are blank ('-') in the paper and "
            "are shown as not reported.",
            "CR complete response (CLASI activity 0); PR partial response.",
        ),
    )


def compute_table3(study: ReferenceStudy) -> ReportTable:
    """Table 3 of the paper: adverse events, one row per event.

    The neutropenia grade, blank in the table, is shown with the grade the Results text gives
    and that CTCAE v5.0 assigns to its neutrophil count (1,190/mm3: grade 2).

    Examples
    --------
    >>> from cletrial.analysis.reference import load_reference_study
    >>> compute_table3(load_reference_study()).rows[-1][2]
    'blank in Table 3; grade 2 by CTCAE v5.0 (ANC 1,190/mm3, Results)'
    """
    from cletrial.instruments import grade_lab

    anc = float(study.summary["neutropenia_patient_15"].value("absolute_neutrophil_count"))
    graded = grade_lab("neutrophil_count_decreased", anc, "/mm3")
    rows = []
    for event in study.table3:
        grade = f"Grade {event.grade}" if event.grade is not None else NOT_REPORTED
        if event.grade is None and event.term == "Neutropenia":
            grade = (
                f"blank in Table 3; grade {graded.grade} by CTCAE v{graded.ctcae_version} "
                f"(ANC {anc:,.0f}/mm3, Results)"
            )
        rows.append((str(event.patient), event.term, grade, event.causality))
    return ReportTable(
        "table3",
        "Table 3. Adverse events during lenalidomide (as published)",
        ("Patient", "Adverse event", "NCI toxicity grade", "Relationship to lenalidomide"),
        tuple(rows),
        ("Patient 3 stopped lenalidomide after one week because of these events.",),
    )


def _mean_sd(values: list[float | int | None], decimals: int = 2) -> str:
    return compute_distribution(values).text_mean_sd(decimals)


def _median_range(values: list[float | int | None]) -> str:
    return compute_distribution(values).text_median_range(0)


def _severity_rows(study: ReferenceStudy) -> list[tuple[str, str]]:
    """CLASI activity severity at entry (Klein et al. 2011 bands, cletrial.instruments)."""
    from cletrial.instruments import compute_clasi_severity

    bands: list[str] = [compute_clasi_severity(r.clasi_activity) for r in study.table1]
    return [
        (
            f"CLASI activity {band} ({limits})",
            compute_proportion(bands.count(band), len(bands)).text(),
        )
        for band, limits in (("mild", "0-9"), ("moderate", "10-20"), ("severe", "21-70"))
    ]


def compute_baseline_summary(study: ReferenceStudy) -> ReportTable:
    """Baseline characteristics recomputed from Table 1: n (%) and mean ± SD.

    Examples
    --------
    >>> from cletrial.analysis.reference import load_reference_study
    >>> dict(compute_baseline_summary(load_reference_study()).rows)["CLASI activity, mean ± SD"]
    '10.93 ± 5.91 (n = 15)'
    """
    rows_1 = study.table1
    n = len(rows_1)
    treated = {r.patient for r in study.table2 if r.outcome != "withdrawn"}

    def share(count: int) -> str:
        return compute_proportion(count, n).text()

    rows = [
        (f"Subtype: {label}", share(sum(r.subtype == key for r in rows_1)))
        for key, label in _SUBTYPE_LABELS.items()
    ]
    rows += [
        ("Female", share(sum(r.sex == "F" for r in rows_1))),
        ("Previous thalidomide", share(sum("T" in r.previous_treatments for r in rows_1))),
        ("Anti-dsDNA positive (>= 15 IU/ml)", share(sum(r.anti_dsdna_positive for r in rows_1))),
        ("Anti-Ro positive", share(sum(r.anti_ro_positive for r in rows_1))),
        (
            "> 18% body surface area",
            share(sum("bsa_over_18" in r.inclusion_reasons for r in rows_1)),
        ),
        *_severity_rows(study),
        ("CLASI activity, mean ± SD", _mean_sd([r.clasi_activity for r in rows_1])),
        ("CLASI activity, median (range)", _median_range([r.clasi_activity for r in rows_1])),
        (
            "CLASI activity of the 14 treated, mean ± SD",
            _mean_sd([r.clasi_activity for r in rows_1 if r.patient in treated]),
        ),
        ("CLASI damage, mean ± SD", _mean_sd([r.clasi_damage for r in rows_1])),
        ("CLASI damage, median (range)", _median_range([r.clasi_damage for r in rows_1])),
    ]
    return ReportTable(
        "baseline_summary",
        f"Baseline summary recomputed from Table 1 (n = {n})",
        ("Characteristic", "Value"),
        tuple(rows),
        ("Age, ethnicity, associated SLE, photosensitivity and SLEDAI-2K are not in Table 1.",),
    )


def _response_rows(study: ReferenceStudy) -> list[tuple[str, str]]:
    """Rows of the response summary (per protocol, intention to treat, relapse, follow-up)."""
    t2 = study.table2
    treated = [r for r in t2 if r.outcome != "withdrawn"]
    cr = [r for r in t2 if r.outcome == "CR"]
    relapsed = sum(r.relapse is True for r in cr)
    return [
        (
            "Complete response, per protocol (excluding the withdrawn patient)",
            compute_proportion(len(cr), len(treated)).text(ci=True),
        ),
        (
            "Complete response, intention to treat (all enrolled)",
            compute_proportion(len(cr), len(t2)).text(ci=True),
        ),
        (
            "Partial response (of treated)",
            compute_proportion(sum(r.outcome == "PR" for r in t2), len(treated)).text(ci=True),
        ),
        (
            "Withdrawn (of enrolled)",
            compute_proportion(sum(r.outcome == "withdrawn" for r in t2), len(t2)).text(ci=True),
        ),
        ("Relapse after CR (of CR)", compute_proportion(relapsed, len(cr)).text(ci=True)),
        (
            "Relapse after CR (of CR with a known status)",
            compute_proportion(relapsed, sum(r.relapse is not None for r in cr)).text(ci=True),
        ),
        (
            "No relapse after CR (of CR)",
            compute_proportion(sum(r.relapse is False for r in cr), len(cr)).text(ci=True),
        ),
        ("Time to CR, weeks, median (range)", _median_range([r.time_to_cr_weeks for r in cr])),
        ("Follow-up, months, median (range)", _median_range([r.follow_up_months for r in t2])),
        ("Follow-up, months, mean ± SD", _mean_sd([r.follow_up_months for r in t2])),
    ]


def compute_response_summary(study: ReferenceStudy) -> ReportTable:
    """Response, relapse and follow-up recomputed from Table 2, with exact 95% intervals.

    Examples
    --------
    >>> from cletrial.analysis.reference import load_reference_study
    >>> dict(compute_response_summary(load_reference_study()).rows)[
    ...     "Complete response, intention to treat (all enrolled)"]
    '12/15 (80%); 95% CI 52-96%'
    """
    t2 = study.table2
    cr = [r for r in t2 if r.outcome == "CR"]
    unknown = [r.patient for r in cr if r.relapse is None]
    rows = _response_rows(study)
    return ReportTable(
        "response_summary",
        "Response summary recomputed from Table 2",
        ("Outcome", "n/N (%) or value"),
        tuple(rows),
        tuple(
            note
            for note in (
                "Intervals: exact Clopper-Pearson (statsmodels proportion_confint, method='beta').",
                f"Relapse status not reported for CR patient(s) {', '.join(map(str, unknown))}."
                if unknown
                else "",
                "Follow-up not reported for patient(s) "
                f"{', '.join(str(r.patient) for r in t2 if r.follow_up_months is None)}.",
            )
            if note
        ),
    )


def compute_adverse_event_summary(study: ReferenceStudy) -> ReportTable:
    """Adverse events recomputed from Table 3: patients affected, events by grade and causality.

    Examples
    --------
    >>> from cletrial.analysis.reference import load_reference_study
    >>> compute_adverse_event_summary(load_reference_study()).rows[0]
    ('Patients with any adverse event (of 15 enrolled)', '2/15 (13%); 95% CI 2-40%')
    """
    events = study.table3
    n = len(study.table1)
    patients = {e.patient for e in events}
    rows = [
        (
            "Patients with any adverse event (of 15 enrolled)",
            compute_proportion(len(patients), n).text(ci=True),
        )
    ]
    for grade in sorted({e.grade for e in events if e.grade is not None}):
        rows.append((f"Events of grade {grade}", str(sum(e.grade == grade for e in events))))
    rows.append(("Events without a grade in Table 3", str(sum(e.grade is None for e in events))))
    for causality in sorted({e.causality for e in events}):
        rows.append(
            (
                f"Events with causality '{causality}'",
                str(sum(e.causality == causality for e in events)),
            )
        )
    stopped = sum(r.outcome == "withdrawn" for r in study.table2)
    rows.append(("Patients who stopped for adverse events", compute_proportion(stopped, n).text()))
    return ReportTable(
        "adverse_event_summary",
        "Adverse events recomputed from Table 3",
        ("Measure", "Value"),
        tuple(rows),
        (
            f"Highest printed grade: {max((e.grade for e in events if e.grade), default='none')}; "
            "Table 3 has no seriousness column.",
        ),
    )
