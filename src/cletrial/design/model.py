"""A trial design as data: arms, endpoint, error rates, assumed rates with their sources, interim
looks and stopping rules, read from a YAML file like a protocol definition.

A design file (``format: cletrial-design/1``) holds every number a sample size, a set of
group-sequential boundaries or a simulation needs. The first arm is the control arm (placebo,
standard care or, in a withdrawal design, the taper arm); the second is the experimental arm.
Every rate the file assumes must be named by one of its ``sources``, each either ``published``
(with a citation) or an ``assumption`` (said so): the design never states an invented rate as a
fact. Bundled designs live in :mod:`cletrial.designs`.

>>> design = load_design("lenalidomide-vs-placebo")
>>> design.kind, design.endpoint.name, design.endpoint.week
('parallel', 'CR', 12)
>>> design.control.id, design.experimental.id, design.allocation_ratio
('control', 'lenalidomide', 1.0)
>>> load_design("lenalidomide-withdrawal").endpoint.kind
'time_to_event'
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec
import yaml
from msgspec import Meta

from cletrial.errors import DesignError
from cletrial.protocol._msgspec_errors import dotted, locate

__all__ = [
    "DESIGN_FORMAT",
    "RATE_FIELDS",
    "Arm",
    "Bayes",
    "Design",
    "Endpoint",
    "Futility",
    "Source",
    "list_designs",
    "load_design",
    "parse_design",
]

#: The value of ``format`` a design file must carry.
DESIGN_FORMAT: Final = "cletrial-design/1"

#: Fields holding an assumed rate or effect; each one given must be named by a source.
RATE_FIELDS: Final = (
    "control_rate",
    "treatment_rate",
    "control_median_weeks",
    "hazard_ratio",
    "dropout",
    "dropout_rate",
)

Id = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=60)]
Text = Annotated[str, Meta(min_length=1, max_length=4000)]
Probability = Annotated[float, Meta(gt=0.0, lt=1.0)]
#: ``obf`` or ``pocock`` (Lan-DeMets), or ``hsd:<gamma>`` (Hwang-Shih-DeCani, e.g. ``hsd:-4``).
Spending = Annotated[str, Meta(min_length=1, max_length=20)]
_SPENDING = re.compile(r"^(obf|pocock|hsd:-?[0-9]+(\.[0-9]+)?)$")


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm: ``ratio`` is its share in the allocation (1 and 1 for 1:1, 1 and 2 for 1:2)."""

    id: Id
    label: Text
    ratio: Annotated[float, Meta(gt=0.0, le=100.0)] = 1.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The primary endpoint: ``binary`` (a response such as CR or CLASI-50 at ``week``) or
    ``time_to_event`` (such as the time to relapse, compared by the log-rank test)."""

    kind: Literal["binary", "time_to_event"]
    name: Annotated[str, Meta(min_length=1, max_length=40)]
    week: Annotated[int, Meta(ge=1, le=520)] | None = None
    definition: Text | None = None


@dataclass(frozen=True, slots=True)
class Futility:
    """Non-binding (by default) futility bounds from a beta-spending function; ``beta`` defaults
    to 1 - power."""

    spending: Spending = "obf"
    beta: Probability | None = None
    binding: bool = False


@dataclass(frozen=True, slots=True)
class Bayes:
    """Bayesian monitoring: a Beta(prior_a, prior_b) prior on each arm's response rate; success
    when P(p_t > p_c | data) >= ``success_threshold`` at the final analysis; at an interim, stop
    for futility when the predictive probability of success is below ``predictive_threshold``."""

    prior_a: Annotated[float, Meta(gt=0.0)] = 1.0
    prior_b: Annotated[float, Meta(gt=0.0)] = 1.0
    success_threshold: Probability = 0.975
    predictive_threshold: Probability = 0.1


@dataclass(frozen=True, slots=True)
class Source:
    """Where the numbers in ``fields`` come from: a ``published`` figure (``citation`` says
    where) or an ``assumption`` (``citation`` says why it was chosen)."""

    fields: tuple[str, ...]
    kind: Literal["published", "assumption"]
    citation: Text
    note: Text | None = None


@dataclass(frozen=True, slots=True)
class Design:
    """A validated trial design (see the module docstring for the file format).

    Rates are proportions (binary endpoints); ``dropout`` is the probability that a patient has
    no primary endpoint, ``dropout_rate`` an exponential drop-out hazard per week (time to
    event). ``looks`` are the information fractions of the analyses, the last 1.0; ``alpha``
    is one-sided.
    """

    format: Literal["cletrial-design/1"]
    id: Id
    title: Text
    version: Annotated[str, Meta(min_length=1, max_length=40)]
    kind: Literal["parallel", "withdrawal"]
    arms: tuple[Arm, ...]
    endpoint: Endpoint
    alpha: Annotated[float, Meta(gt=0.0, lt=0.5)] = 0.025
    power: Probability = 0.9
    description: Text | None = None
    protocol: Annotated[str, Meta(min_length=1, max_length=80)] | None = None
    control_rate: Probability | None = None
    treatment_rate: Probability | None = None
    control_median_weeks: Annotated[float, Meta(gt=0.0)] | None = None
    hazard_ratio: Annotated[float, Meta(gt=0.0)] | None = None
    dropout: Annotated[float, Meta(ge=0.0, lt=1.0)] = 0.0
    dropout_rate: Annotated[float, Meta(ge=0.0)] = 0.0
    accrual_weeks: Annotated[float, Meta(gt=0.0)] | None = None
    follow_up_weeks: Annotated[float, Meta(ge=0.0)] | None = None
    looks: tuple[float, ...] = (1.0,)
    efficacy_spending: Spending = "obf"
    futility: Futility | None = None
    bayes: Bayes | None = None
    n_per_arm: Annotated[int, Meta(ge=1)] | None = None
    sources: tuple[Source, ...] = ()

    @property
    def control(self) -> Arm:
        """The control arm (the first)."""
        return self.arms[0]

    @property
    def experimental(self) -> Arm:
        """The experimental arm (the second)."""
        return self.arms[1]

    @property
    def allocation_ratio(self) -> float:
        """Patients on the experimental arm per patient on control."""
        return self.experimental.ratio / self.control.ratio

    @property
    def futility_beta(self) -> float | None:
        """The beta spent on futility (1 - power unless given), or None without futility."""
        if self.futility is None:
            return None
        return self.futility.beta if self.futility.beta is not None else 1.0 - self.power

    def source_of(self, field: str) -> Source | None:
        """The source naming ``field`` (e.g. ``control_rate``), if any."""
        return next((s for s in self.sources if field in s.fields), None)


def _unknown_keys(document: Any, cls: Any, path: list[str | int]) -> None:
    """Raise on the first key of ``document`` that is not a field of the dataclass ``cls``
    (msgspec ignores unknown keys of dataclasses); recurse into nested dataclasses."""
    if not isinstance(document, dict):
        return
    hints = typing.get_type_hints(cls, include_extras=True)
    for key, value in document.items():
        if key not in hints:
            raise DesignError(dotted([*path, str(key)]), value, "unknown key")
        for inner in _dataclasses_in(hints[key]):
            items = enumerate(value) if isinstance(value, list) else [(None, value)]
            for index, item in items:
                where = [*path, key] if index is None else [*path, key, index]
                _unknown_keys(item, inner, where)


def _dataclasses_in(hint: Any) -> list[type]:
    """The dataclasses a type hint holds (through Annotated, Optional and tuple)."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return [hint]
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType, tuple, typing.Annotated):
        return [d for a in args for d in _dataclasses_in(a)]
    return []


def _check(design: Design) -> None:
    """Consistency beyond the schema; raises DesignError naming the field and the value."""
    if len(design.arms) != 2:
        raise DesignError("arms", [a.id for a in design.arms], "must be two arms: control first")
    if design.arms[0].id == design.arms[1].id:
        raise DesignError("arms[1].id", design.arms[1].id, "must differ from arms[0].id")
    _check_looks(design.looks)
    if design.futility is not None and design.futility.binding:
        raise DesignError(
            "futility.binding", True, "binding futility is not supported: use false (non-binding)"
        )
    spendings = [("efficacy_spending", design.efficacy_spending)]
    if design.futility is not None:
        spendings.append(("futility.spending", design.futility.spending))
    for name, value in spendings:
        if not _SPENDING.match(value):
            raise DesignError(name, value, 'must be "obf", "pocock" or "hsd:<gamma>" (hsd:-4)')
    needed = (
        ("control_rate", "treatment_rate")
        if design.endpoint.kind == "binary"
        else ("control_median_weeks", "hazard_ratio", "accrual_weeks", "follow_up_weeks")
    )
    for name in needed:
        if getattr(design, name) is None:
            raise DesignError(name, None, f"is required for a {design.endpoint.kind} endpoint")
    if design.endpoint.kind == "binary":
        if design.control_rate == design.treatment_rate:
            raise DesignError("treatment_rate", design.treatment_rate, "must differ from control")
        if design.endpoint.week is None:
            raise DesignError("endpoint.week", None, "is required for a binary endpoint")
    elif design.hazard_ratio == 1.0:
        raise DesignError("hazard_ratio", 1.0, "must differ from 1 (no effect to detect)")
    _check_sources(design)


def _check_looks(looks: tuple[float, ...]) -> None:
    if not looks:
        raise DesignError("looks", [], "must list at least the final analysis (1.0)")
    for i, t in enumerate(looks):
        if not (0.0 < t <= 1.0) or math.isnan(t):
            raise DesignError(f"looks[{i}]", t, "must be an information fraction in (0, 1]")
        if i and t <= looks[i - 1]:
            raise DesignError(f"looks[{i}]", t, f"must be above the previous look {looks[i - 1]}")
    if looks[-1] != 1.0:
        raise DesignError(f"looks[{len(looks) - 1}]", looks[-1], "the last look must be 1.0")


def _check_sources(design: Design) -> None:
    for i, source in enumerate(design.sources):
        for j, name in enumerate(source.fields):
            if name not in RATE_FIELDS:
                raise DesignError(
                    f"sources[{i}].fields[{j}]", name, "must be one of " + ", ".join(RATE_FIELDS)
                )
    for name in RATE_FIELDS:
        value = getattr(design, name)
        if value and design.source_of(name) is None:
            raise DesignError(
                name, value, "needs a source: list it in sources (published or assumption)"
            )


def parse_design(document: Any, origin: str = "<design>") -> Design:
    """Validate a decoded design document (a mapping) and return the :class:`Design`.

    >>> parse_design({"format": "cletrial-design/1", "id": "x"})
    Traceback (most recent call last):
    ...
    cletrial.errors.DesignError: <design>: title = null: is required
    """
    if not isinstance(document, dict):
        raise DesignError("", None, "a design must be a mapping", origin=origin)
    try:
        _unknown_keys(document, Design, [])
        try:
            design = msgspec.convert(document, Design)
        except msgspec.ValidationError as exc:
            path, value, problem = locate(exc, document)
            raise DesignError(path, value, problem) from None
        _check(design)
    except DesignError as exc:
        raise DesignError(exc.field, exc.value, exc.problem, origin=origin) from None
    return design


def list_designs() -> list[str]:
    """Return the ids of the bundled designs.

    >>> list_designs()
    ['lenalidomide-vs-placebo', 'lenalidomide-withdrawal']
    """
    folder = resources.files("cletrial.designs")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _read(id_or_path: str | Path) -> tuple[str, str]:
    text_id = str(id_or_path)
    if isinstance(id_or_path, Path) or any(c in text_id for c in "/\\") or "." in text_id:
        path = Path(id_or_path)
        try:
            return path.read_text(encoding="utf-8"), path.name
        except OSError as exc:
            raise DesignError(
                "path", text_id, f"cannot be read ({exc.strerror or exc}); give a design file"
            ) from None
    if text_id in list_designs():
        folder = resources.files("cletrial.designs")
        return folder.joinpath(f"{text_id}.yaml").read_text(encoding="utf-8"), f"{text_id}.yaml"
    raise DesignError(
        "design", text_id, "is no bundled design (" + ", ".join(list_designs()) + ") nor a file"
    )


def load_design(id_or_path: str | Path) -> Design:
    """Load and validate a design by bundled id or by the path of a YAML (or JSON) file.

    Parameters
    ----------
    id_or_path : str or Path
        A bundled id (see :func:`list_designs`) or a file path.

    Returns
    -------
    Design
        The validated design.

    Raises
    ------
    DesignError
        The file cannot be read or does not validate; names the file, the field and the value.

    Examples
    --------
    >>> load_design("lenalidomide-vs-placebo").treatment_rate
    0.733
    >>> load_design("no-such-design")
    Traceback (most recent call last):
    ...
    cletrial.errors.DesignError: design = "no-such-design": is no bundled design (...) nor a file
    """
    text, origin = _read(id_or_path)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DesignError("", None, f"not valid YAML ({exc})", origin=origin) from None
    return parse_design(document, origin)
