"""The published-claims audit: every quantitative claim of the 2012 paper, recomputed.

The claims are data (``cletrial/data/cortes_hernandez_2012/claims.yaml``): where each stands,
the printed figure as text and as numbers, and which check of
:mod:`cletrial.analysis.claim_checks` recomputes it from Tables 1-3 or the summary statistics.
Each result has a status computed by the check: ``consistent``, ``inconsistent`` or
``not reproducible`` (the tables do not hold the data), and a one-line explanation.

>>> audit = compute_claims_audit()
>>> audit.result("results_time_to_cr_lupus_profundus").status
'inconsistent'
>>> audit.result("results_cr").recomputed_text
'12/14 (85.7%)'
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import pandas as pd

from cletrial.analysis._claim_model import STATUSES, AuditContext, ClaimSpec, Status
from cletrial.analysis.claim_checks import CHECKS
from cletrial.analysis.reference import ReferenceStudy, load_reference_study, load_reference_yaml
from cletrial.errors import ImportFileError

__all__ = ["ClaimResult", "ClaimsAudit", "compute_claims_audit", "load_claim_specs"]

_FILE: Final = "claims.yaml"
_NUMBER_WORDS: Final = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
)
_WORDS: Final = dict(enumerate(_NUMBER_WORDS.split(" ")))


@dataclass(frozen=True)
class ClaimResult:
    """One audited claim: what the paper printed, what the tables give, and the verdict."""

    id: str
    section: str
    claim: str
    reported_text: str
    reported: dict[str, float]
    recomputed_text: str
    recomputed: dict[str, Any]
    status: Status
    explanation: str
    check: str

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape of the claim."""
        return {
            "id": self.id,
            "section": self.section,
            "claim": self.claim,
            "reported_text": self.reported_text,
            "reported": self.reported,
            "recomputed_text": self.recomputed_text,
            "recomputed": self.recomputed,
            "status": self.status,
            "explanation": self.explanation,
            "check": self.check,
        }


@dataclass(frozen=True)
class ClaimsAudit:
    """All audited claims, in paper order, with counts by status and the source cited."""

    results: tuple[ClaimResult, ...]
    citation: dict[str, Any]

    def result(self, claim_id: str) -> ClaimResult:
        """The result of one claim by id (KeyError if there is none)."""
        for result in self.results:
            if result.id == claim_id:
                return result
        raise KeyError(claim_id)

    @property
    def counts(self) -> dict[str, int]:
        """Number of claims by status (every status listed, zero included)."""
        found = Counter(r.status for r in self.results)
        return {status: found.get(status, 0) for status in STATUSES}

    @property
    def summary(self) -> pd.DataFrame:
        """One row per claim: section, claim, reported, recomputed, status, explanation."""
        columns = ["section", "claim", "reported_text", "recomputed_text", "status", "explanation"]
        return pd.DataFrame(
            [{c: getattr(r, c) for c in columns} for r in self.results],
            index=pd.Index([r.id for r in self.results], name="id"),
        )

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape: source, counts by status and the claims."""
        return {
            "source": self.citation,
            "counts": self.counts,
            "claims": [r.as_dict() for r in self.results],
        }


def _number(claim_id: str, key: str, text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        raise ImportFileError(
            _FILE, 0, f"{claim_id}.reported.{key}", text, "must be a number written as a string"
        ) from None


def _appears(value: Decimal, text: str) -> bool:
    """The printed number (or its word, for counts up to fifteen) occurs in the printed text."""
    words = re.findall(r"[0-9]+(?:\.[0-9]+)?|[A-Za-z]+", text)
    candidates = {str(value)} | ({_WORDS[int(value)]} if value in _WORDS else set())
    return any(w.lower() in candidates for w in words)


def _spec(index: int, item: dict[str, Any]) -> ClaimSpec:
    claim_id = str(item.get("id", f"#{index}"))
    for field in ("id", "section", "claim", "reported_text", "check"):
        if not isinstance(item.get(field), str) or not item[field]:
            raise ImportFileError(
                _FILE, index, f"{claim_id}.{field}", item.get(field), "must be a non-empty string"
            )
    if item["check"] not in CHECKS:
        raise ImportFileError(
            _FILE,
            index,
            f"{claim_id}.check",
            item["check"],
            f"must be one of {', '.join(sorted(CHECKS))}",
        )
    reported = {str(k): _number(claim_id, k, v) for k, v in (item.get("reported") or {}).items()}
    for key, value in reported.items():
        if not _appears(value, item["reported_text"]):
            raise ImportFileError(
                _FILE,
                index,
                f"{claim_id}.reported.{key}",
                str(value),
                f"must appear in reported_text {item['reported_text']!r}",
            )
    return ClaimSpec(
        id=claim_id,
        section=item["section"],
        claim=item["claim"],
        reported_text=item["reported_text"],
        reported=reported,
        check=item["check"],
        args=dict(item.get("args") or {}),
        note=str(item.get("note") or ""),
    )


def load_claim_specs() -> tuple[ClaimSpec, ...]:
    """Load and validate the claims table (ids unique, checks known, figures in their text).

    Examples
    --------
    >>> specs = load_claim_specs()
    >>> specs[0].id, str(specs[0].reported["n"])
    ('abstract_enrolled', '15')
    """
    document = load_reference_yaml(_FILE)
    specs = tuple(_spec(i, item) for i, item in enumerate(document["claims"], start=1))
    seen: set[str] = set()
    for index, spec in enumerate(specs, start=1):
        if spec.id in seen:
            raise ImportFileError(_FILE, index, "id", spec.id, "must be unique")
        seen.add(spec.id)
    return specs


def compute_claims_audit(study: ReferenceStudy | None = None) -> ClaimsAudit:
    """Recompute every claim of the paper from its own tables and summary statistics.

    Parameters
    ----------
    study : ReferenceStudy, optional
        The reference data (loaded from the package when omitted).

    Returns
    -------
    ClaimsAudit
        One :class:`ClaimResult` per claim, in paper order.

    Examples
    --------
    >>> audit = compute_claims_audit()
    >>> audit.result("results_lowest_relapse_dose").status
    'inconsistent'
    >>> sum(audit.counts.values()) == len(audit.results)
    True
    """
    study = study if study is not None else load_reference_study()
    specs = load_claim_specs()
    context = AuditContext(study=study, specs={s.id: s for s in specs})
    results = []
    for spec in specs:
        outcome = CHECKS[spec.check](context, spec)
        results.append(
            ClaimResult(
                id=spec.id,
                section=spec.section,
                claim=spec.claim,
                reported_text=spec.reported_text,
                reported={k: float(v) for k, v in spec.reported.items()},
                recomputed_text=outcome.recomputed_text,
                recomputed=outcome.recomputed,
                status=outcome.status,
                explanation=outcome.explanation,
                check=spec.check,
            )
        )
    return ClaimsAudit(results=tuple(results), citation=study.citation)
