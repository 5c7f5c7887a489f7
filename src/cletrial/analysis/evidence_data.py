"""The published lenalidomide series in cutaneous lupus, loaded from a cited YAML file.

The file ``cletrial/data/evidence/lenalidomide_cle_series.yaml`` holds, per series, its citation,
design, denominators, counts of complete responses, responders and relapses, each series' own
response definitions (paraphrased) and, for every figure, where in the source it stands. This
module turns it into frozen :class:`Series` objects and refuses a file whose counts do not add up
(complete + partial = responders, responders + non-responders = evaluable, ...), naming the
series and the field (:class:`~cletrial.errors.InputError`).

>>> series = load_published_series()
>>> [(s.id, s.n_treated, s.complete_responses, s.responders) for s in series]
[('cortes_hernandez_2012', 15, 12, 14), ('braunstein_2012', 5, 0, 4),
 ('shah_2009', 2, 0, 1), ('mayo_clinic_2016', 9, 5, 7)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, Literal

import yaml

from cletrial.errors import InputError

__all__ = [
    "DESIGNS",
    "OUTCOMES",
    "POPULATIONS",
    "SERIES_FILE",
    "Citation",
    "Outcome",
    "Population",
    "Series",
    "load_published_series",
    "parse_series",
]

#: Where the file lives inside the ``cletrial`` package.
SERIES_FILE: Final = ("data", "evidence", "lenalidomide_cle_series.yaml")

Outcome = Literal["cr", "response"]
Population = Literal["treated", "evaluable"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("cr", "response")
POPULATIONS: Final[tuple[Population, ...]] = ("treated", "evaluable")
DESIGNS: Final = ("prospective", "retrospective", "case_series")

_COUNTS: Final = (
    "n_enrolled",
    "n_treated",
    "n_evaluable",
    "complete_responses",
    "partial_responses",
    "non_responders",
    "responders",
    "relapses",
)
_REQUIRED_COUNTS: Final = ("n_enrolled", "n_treated", "n_evaluable")
_DEFINITIONS: Final = ("complete_response", "partial_response", "relapse")


@dataclass(frozen=True)
class Citation:
    """Where a series was published. ``authors`` is ``None`` when the source does not list them."""

    authors: tuple[str, ...] | None
    title: str
    journal: str
    year: int
    volume: str | None
    issue: str | None
    pages: str | None
    doi: str | None
    pmid: str | None
    registration: str | None
    source: str

    def text(self) -> str:
        """Short reference: ``Authors. Title. Journal Year;Volume(Issue):Pages. doi:...``.

        >>> load_published_series()[2].citation.text()[:46]
        'Shah A, Albrecht J, Bonilla-Martinez Z, Okawa '
        """
        who = ", ".join(self.authors) + ". " if self.authors else ""
        where = f"{self.journal} {self.year}"
        if self.volume:
            where += f";{self.volume}"
            where += f"({self.issue})" if self.issue else ""
        where += f":{self.pages}" if self.pages else ""
        doi = f" doi:{self.doi}" if self.doi else ""
        return f"{who}{self.title}. {where}.{doi}"


@dataclass(frozen=True)
class Series:
    """One published series: design, denominators, counts, definitions and their sources."""

    id: str
    label: str
    citation: Citation
    design: str
    design_detail: str
    n_enrolled: int
    n_treated: int
    n_evaluable: int
    complete_responses: int | None
    partial_responses: int | None
    non_responders: int | None
    responders: int | None
    relapses: int | None
    relapses_among: str | None
    definitions: Mapping[str, str]
    provenance: Mapping[str, str]
    notes: str | None = None

    def events(self, outcome: Outcome) -> int | None:
        """Patients with ``outcome`` (``cr`` or ``response``); ``None`` when not reported.

        >>> load_published_series()[0].events("response")
        14
        """
        if outcome == "cr":
            return self.complete_responses
        if outcome == "response":
            return self.responders
        raise InputError("outcome", outcome, f"must be one of {', '.join(OUTCOMES)}")

    def denominator(self, population: Population) -> int:
        """Patients treated (``treated``) or assessed for response (``evaluable``).

        >>> s = load_published_series()[0]
        >>> s.denominator("treated"), s.denominator("evaluable")
        (15, 14)
        """
        if population == "treated":
            return self.n_treated
        if population == "evaluable":
            return self.n_evaluable
        raise InputError("population", population, f"must be one of {', '.join(POPULATIONS)}")


def _text(raw: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str | None:
    value = raw.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise InputError(f"{where}.{key}", value, "must be a non-empty text")
    return str(value).strip()


def _count(raw: Mapping[str, Any], key: str, where: str) -> int | None:
    value = raw.get(key)
    if value is None and key not in _REQUIRED_COUNTS:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{where}.{key}", value, "must be a whole number >= 0")
    return value


def _citation(raw: Any, where: str) -> Citation:
    if not isinstance(raw, Mapping):
        raise InputError(where, raw, "must be a mapping (authors, title, journal, year, ...)")
    authors = raw.get("authors")
    if authors is not None and (
        not isinstance(authors, list) or not all(isinstance(a, str) and a for a in authors)
    ):
        raise InputError(f"{where}.authors", authors, "must be a list of names, or null")
    year = raw.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        raise InputError(f"{where}.year", year, "must be a year such as 2012")
    optional = {
        key: _text(raw, key, where, optional=True)
        for key in ("volume", "issue", "pages", "doi", "pmid", "registration")
    }
    return Citation(
        authors=tuple(authors) if authors else None,
        title=str(_text(raw, "title", where)),
        journal=str(_text(raw, "journal", where)),
        year=year,
        source=str(_text(raw, "source", where)),
        **optional,
    )


def _check_sums(series: Series, where: str) -> None:
    if not series.n_evaluable <= series.n_treated <= series.n_enrolled:
        raise InputError(
            f"{where}.n_treated",
            series.n_treated,
            f"must satisfy n_evaluable ({series.n_evaluable}) <= n_treated <= n_enrolled "
            f"({series.n_enrolled})",
        )
    cr, pr, nr, resp = (
        series.complete_responses,
        series.partial_responses,
        series.non_responders,
        series.responders,
    )
    if cr is not None and pr is not None and resp is not None and cr + pr != resp:
        raise InputError(
            f"{where}.responders", resp, f"must equal complete ({cr}) + partial ({pr}) responses"
        )
    if resp is not None and nr is not None and resp + nr != series.n_evaluable:
        raise InputError(
            f"{where}.non_responders",
            nr,
            f"responders ({resp}) + non_responders must equal n_evaluable ({series.n_evaluable})",
        )
    if resp is not None and resp > series.n_evaluable:
        raise InputError(f"{where}.responders", resp, "must not exceed n_evaluable")
    if cr is not None and resp is not None and cr > resp:
        raise InputError(f"{where}.complete_responses", cr, "must not exceed responders")
    if series.relapses is not None and (cr is None or series.relapses > cr):
        raise InputError(f"{where}.relapses", series.relapses, "must not exceed complete_responses")


def _series(raw: Any, index: int) -> Series:
    where = f"series[{index}]"
    if not isinstance(raw, Mapping):
        raise InputError(where, raw, "must be a mapping with id, label, citation, counts, ...")
    design = raw.get("design")
    if design not in DESIGNS:
        raise InputError(f"{where}.design", design, f"must be one of {', '.join(DESIGNS)}")
    definitions = raw.get("definitions")
    if not isinstance(definitions, Mapping) or set(definitions) != set(_DEFINITIONS):
        raise InputError(
            f"{where}.definitions", definitions, f"must give exactly {', '.join(_DEFINITIONS)}"
        )
    provenance = raw.get("provenance")
    if not isinstance(provenance, Mapping):
        raise InputError(f"{where}.provenance", provenance, "must map each figure to its source")
    missing = [k for k in (*_COUNTS, "definitions") if not isinstance(provenance.get(k), str)]
    if missing:
        raise InputError(f"{where}.provenance", missing, "must say where each figure comes from")
    counts = {key: _count(raw, key, where) for key in _COUNTS}
    series = Series(
        id=str(_text(raw, "id", where)),
        label=str(_text(raw, "label", where)),
        citation=_citation(raw.get("citation"), f"{where}.citation"),
        design=design,
        design_detail=str(_text(raw, "design_detail", where)),
        relapses_among=_text(raw, "relapses_among", where, optional=True),
        definitions={k: str(v).strip() for k, v in definitions.items()},
        provenance={k: str(v).strip() for k, v in provenance.items()},
        notes=_text(raw, "notes", where, optional=True),
        **counts,  # type: ignore[arg-type]
    )
    _check_sums(series, where)
    return series


def parse_series(document: Any) -> tuple[Series, ...]:
    """Validate a parsed series document (the YAML file's content) into :class:`Series`.

    Parameters
    ----------
    document : Any
        The mapping read from the YAML file: ``schema_version: 1`` and a ``series`` list.

    Returns
    -------
    tuple of Series
        In file order; ids are unique.

    Raises
    ------
    InputError
        A field is missing or wrong, or the counts of a series do not add up.

    Examples
    --------
    >>> parse_series({"schema_version": 1, "series": []})
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: series = []: must list at least one published series
    """
    if not isinstance(document, Mapping):
        raise InputError("", document, "must be a mapping with schema_version and series")
    if document.get("schema_version") != 1:
        raise InputError("schema_version", document.get("schema_version"), "must be 1")
    raw = document.get("series")
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise InputError("series", raw, "must list at least one published series")
    series = tuple(_series(item, index) for index, item in enumerate(raw))
    ids = [s.id for s in series]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError("series.id", duplicates, "must be unique")
    return series


def load_published_series() -> tuple[Series, ...]:
    """The bundled, cited series of lenalidomide in cutaneous lupus (see the module doc).

    Returns
    -------
    tuple of Series

    Examples
    --------
    >>> s = load_published_series()[3]
    >>> s.label, s.design, s.citation.doi
    ('Mayo Clinic 2016', 'retrospective', '10.1111/ijd.13226')
    """
    text = resources.files("cletrial").joinpath(*SERIES_FILE).read_text(encoding="utf-8")
    return parse_series(yaml.safe_load(text))
