"""Baseline, response and safety tables of a visit-level cohort (from ``cletrial.endpoints``).

Same conventions as :mod:`cletrial.analysis.tables`: n (%) with exact Clopper-Pearson
intervals, mean ± SD and median (range) with missing values counted, the test always named.
Complete response is counted in the efficacy population (treated, a baseline CLASI-A, not
withdrawn before the first assessment: the paper's 12/14) and by intention to treat among all
treated patients (``eff_flag`` and ``itt_flag`` of :mod:`cletrial.endpoints.populations`);
patients never dosed are counted, and why each patient is outside a population is listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from cletrial.analysis.cohort import Cohort, compute_paired_test_texts
from cletrial.analysis.statistics import compute_distribution, compute_proportion
from cletrial.analysis.tables import ReportTable

__all__ = [
    "compute_cohort_adverse_event_table",
    "compute_cohort_baseline_table",
    "compute_cohort_relapse_table",
    "compute_cohort_response_table",
]


def _values(series: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in series]


def _share(count: int, total: int, ci: bool = True) -> str:
    return compute_proportion(count, total).text(ci=ci) if total else "no patient with a value"


def _flag(series: pd.Series) -> tuple[int, int]:
    """(True count, known count) of a nullable boolean column."""
    known = series.dropna()
    return int(known.astype(bool).sum()), len(known)


def _count_rows(label: str, series: pd.Series) -> list[tuple[str, str]]:
    counts = series.fillna("missing").value_counts()
    return [(f"{label}: {key}", str(int(n))) for key, n in sorted(counts.items())]


def compute_cohort_baseline_table(cohort: Cohort) -> ReportTable:
    """Patients, treatment and baseline scores of a cohort.

    >>> from cletrial.analysis.cohort import _example_histories, derive_cohort
    >>> dict(compute_cohort_baseline_table(derive_cohort(_example_histories())).rows)["Patients"]
    '2'
    """
    s = cohort.subjects
    n = len(s)
    rows = [
        ("Patients", str(n)),
        ("Synthetic histories", _share(cohort.n_synthetic, n, ci=False)),
        (
            "Treated (at least one dose: the ITT and safety populations)",
            _share(int(s["treated"].fillna(False).sum()), n, False),
        ),
    ]
    for column, label in (
        ("clasi_a_base", "CLASI activity"),
        ("clasi_d_base", "CLASI damage"),
        ("sledai_base", "SLEDAI-2K"),
    ):
        dist = compute_distribution(_values(s[column]))
        rows.append((f"{label} at baseline, mean ± SD", dist.text_mean_sd(2)))
        rows.append((f"{label} at baseline, median (range)", dist.text_median_range(0)))
    return ReportTable(
        "cohort_baseline", f"Baseline (n = {n})", ("Characteristic", "Value"), tuple(rows)
    )


def compute_cohort_response_table(cohort: Cohort) -> ReportTable:
    """Best response (per protocol and intention to treat) and time to complete response.

    >>> from cletrial.analysis.cohort import _example_histories, derive_cohort
    >>> compute_cohort_response_table(derive_cohort(_example_histories())).rows[0][1]
    '1/2 (50%); 95% CI 1-99%'
    """
    s = cohort.subjects
    best = s["best_response"].fillna("missing")
    efficacy = s["eff_flag"].fillna(False).astype(bool)
    itt = s["itt_flag"].fillna(False).astype(bool)
    cr = best == "CR"
    rows = [
        (
            "Complete response, efficacy population (treated, baseline, not withdrawn)",
            _share(int((cr & efficacy).sum()), int(efficacy.sum())),
        ),
        (
            "Complete response, intention to treat (all treated patients)",
            _share(int((cr & itt).sum()), int(itt.sum())),
        ),
    ]
    for code in ("PR", "NR", "WITHDRAWN", "NE"):
        rows.append((f"Best response {code} (of all)", _share(int((best == code).sum()), len(s))))
    rows.append(
        (
            "Time to CR, weeks, median (range)",
            compute_distribution(_values(s["time_to_cr_weeks"][best == "CR"])).text_median_range(1),
        )
    )
    rows += _count_rows("Why not evaluable (NE)", s["response_note"][best == "NE"])
    rows += _count_rows("Outside a population", s["population_note"].dropna())
    return ReportTable(
        "cohort_response",
        "Best CLASI response",
        ("Outcome", "n/N (%) or value"),
        tuple(rows),
        ("Intervals: exact Clopper-Pearson.",),
    )


def compute_cohort_relapse_table(cohort: Cohort) -> ReportTable:
    """Relapse after CR, cycles, maintenance, sustained remission, flares, damage change.

    >>> from cletrial.analysis.cohort import _example_histories, derive_cohort
    >>> compute_cohort_relapse_table(derive_cohort(_example_histories())).rows[0][1]
    '0/1 (0%); 95% CI 0-98%'
    """
    s = cohort.subjects
    cr = s[s["best_response"] == "CR"]
    relapsed, known = _flag(cr["relapsed"])
    rows = [("Relapse after CR (of CR with a known status)", _share(relapsed, known))]
    weeks = compute_distribution(_values(cr["first_relapse_weeks_from_reduction"]))
    rows.append(
        (
            "First relapse, weeks from the last dose reduction, median (range)",
            weeks.text_median_range(1),
        )
    )
    relapsers = cr[cr["relapsed"].fillna(False).astype(bool)]
    rows += _count_rows("First relapse setting", relapsers["first_relapse_setting"])
    rows += _count_rows("Regimen at first relapse", relapsers["first_relapse_regimen"])
    rows.append(
        (
            "Two or more treatment cycles (of CR)",
            _share(int((cr["n_cycles"].fillna(0) >= 2).sum()), len(cr)),
        )
    )
    for column, label in (
        ("maintenance", "Long-term maintenance"),
        ("sustained_remission", "Sustained remission after withdrawal"),
    ):
        count, known_n = _flag(cr[column])
        rows.append((f"{label} (of CR with a known value)", _share(count, known_n)))
    for column, label in (
        ("flare_paper_mild", "SLEDAI-2K flare, paper rule, mild (> 3)"),
        ("flare_paper_severe", "SLEDAI-2K flare, paper rule, severe (> 12)"),
        ("flare_selena_mild", "SELENA flare, mild/moderate"),
        ("flare_selena_severe", "SELENA flare, severe"),
    ):
        count, known_n = _flag(s[column])
        rows.append((f"{label} (of patients with a known value)", _share(count, known_n)))
    rows += _damage_rows(s)
    return ReportTable(
        "cohort_relapse",
        "Relapse, flares and damage",
        ("Outcome", "Value"),
        tuple(rows),
        ("Intervals: exact Clopper-Pearson.",),
    )


def _damage_rows(s: pd.DataFrame) -> list[tuple[str, str]]:
    both = s[["clasi_d_base", "clasi_d_12m"]].astype(float).dropna()
    change = compute_distribution(_values(s["clasi_d_change_12m"]))
    rows = [("CLASI damage change at 12 months, mean ± SD", change.text_mean_sd(2))]
    texts = compute_paired_test_texts(both["clasi_d_12m"].tolist(), both["clasi_d_base"].tolist())
    rows += [("CLASI damage 12 months vs baseline", text) for text in texts]
    return rows


def _grade_rows(aes: pd.DataFrame) -> Iterable[tuple[str, str]]:
    grades = aes["grade"].astype(float)
    for grade in sorted(grades.dropna().unique()):
        yield (f"Adverse events of grade {int(grade)}", str(int((grades == grade).sum())))
    yield ("Adverse events without a grade", str(int(grades.isna().sum())))


def compute_cohort_adverse_event_table(cohort: Cohort) -> ReportTable:
    """Patients with adverse events, related and serious events, events by CTCAE grade.

    >>> from cletrial.analysis.cohort import _example_histories, derive_cohort
    >>> compute_cohort_adverse_event_table(derive_cohort(_example_histories())).rows[0][1]
    '0/2 (0%); 95% CI 0-84%'
    """
    s = cohort.subjects
    n = len(s)
    any_ae, known = _flag(s["any_ae"])
    rows: list[tuple[str, str]] = [
        ("Patients with any adverse event (of patients with a known value)", _share(any_ae, known)),
        (
            "Patients with a related adverse event",
            _share(int((s["n_ae_related"].fillna(0) > 0).sum()), n),
        ),
        ("Patients with a serious adverse event", _share(int((s["n_sae"].fillna(0) > 0).sum()), n)),
    ]
    rows += list(_grade_rows(cohort.table.aes))
    stops: Any = s["first_stop_reason"].dropna()
    rows += [
        (f"Treatment stopped: {k}", str(int(v))) for k, v in sorted(stops.value_counts().items())
    ]
    return ReportTable(
        "cohort_adverse_events", "Adverse events and disposition", ("Measure", "Value"), tuple(rows)
    )
