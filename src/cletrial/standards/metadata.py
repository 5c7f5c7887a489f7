"""Datasets with their metadata: the shared shape of every SDTM and ADaM dataset cletrial writes.

A :class:`Dataset` is a pandas frame plus its :class:`DatasetSpec`: the dataset's name, label,
class, structure and keys, and for each column a :class:`Variable` (name, label, data type,
length, origin, codelist, derivation). The SDTM and ADaM builders return datasets; the writers
(SAS transport, Dataset-JSON, Define-XML) read only this shape, so a rule of the standard is
checked once, in :meth:`Dataset.check`, before any file is written.

Data types (``Variable.type``), and how each is held in the frame:

============  =========================================  ================================
type          frame values                               in SAS transport / Define-XML
============  =========================================  ================================
``text``      ``str`` or ``None`` (missing)              character / ``text``
``integer``   ``float`` holding whole numbers, ``NaN``   numeric / ``integer``
``float``     ``float``, ``NaN`` missing                 numeric / ``float``
``iso8601``   ``str`` ``YYYY-MM-DD`` (SDTM ``--DTC``)    character / ``date``
``sas_date``  ``datetime.date`` or ``None`` (ADaM       numeric, format ``DATE9.`` /
              ``ADT``, ``TRTSDT``)                       ``integer``
============  =========================================  ================================

>>> import pandas as pd
>>> spec = DatasetSpec(
...     name="DM", label="Demographics", domain_class="SPECIAL PURPOSE",
...     structure="One record per subject", keys=("STUDYID", "USUBJID"),
...     standard="SDTMIG 3.4",
...     variables=(Variable("STUDYID", "Study Identifier", "text", role="Identifier"),
...                Variable("USUBJID", "Unique Subject Identifier", "text", role="Identifier"),
...                Variable("AGE", "Age", "integer", role="Record Qualifier")))
>>> ds = Dataset(spec, pd.DataFrame({"STUDYID": ["S1"], "USUBJID": ["S1-P01"], "AGE": [41.0]}))
>>> ds.check().spec.variable("AGE").label
'Age'
>>> Variable("DSDECOD_LONG", "Standardized Disposition Term", "text").check("DS")
Traceback (most recent call last):
cletrial.errors.StandardsError: DS.DSDECOD_LONG: a SAS transport (v5) variable name has at most 8...
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import pandas as pd

from cletrial.errors import StandardsError

__all__ = [
    "CT_VERSION",
    "MAX_LABEL",
    "MAX_NAME",
    "MAX_TEXT_BYTES",
    "SDTMIG_VERSION",
    "SDTM_VERSION",
    "Dataset",
    "DatasetSpec",
    "Origin",
    "ValueLevel",
    "Variable",
    "VariableType",
]

#: SAS transport v5 limits: variable and dataset names, labels, character values (bytes).
MAX_NAME: Final = 8
MAX_LABEL: Final = 40
MAX_TEXT_BYTES: Final = 200

#: The SDTM implementation guide the SDTM datasets follow, and the SDTM model version it
#: implements (SDTMIG 3.4 implements SDTM v2.0).
SDTMIG_VERSION: Final = "3.4"
SDTM_VERSION: Final = "2.0"
#: The CDISC Controlled Terminology package the vocabulary's NCI codes are taken from.
CT_VERSION: Final = "2024-03-29"

VariableType = Literal["text", "integer", "float", "iso8601", "sas_date"]
#: Define-XML 2.1 origin types.
Origin = Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor"]

_NAME = re.compile(r"[A-Z_][A-Z0-9_]*\Z")
_TYPES: Final = ("text", "integer", "float", "iso8601", "sas_date")
_ISO_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?\Z")


def _name_error(where: str) -> StandardsError:
    return StandardsError(
        f"{where}: a SAS transport (v5) variable name has at most {MAX_NAME} characters "
        "(letters, digits, underscore; not starting with a digit)"
    )


@dataclass(frozen=True)
class Variable:
    """One variable (column) of a dataset, as Define-XML describes it.

    Parameters
    ----------
    name : str
        Upper-case name, at most 8 characters.
    label : str
        At most 40 characters.
    type : {"text", "integer", "float", "iso8601", "sas_date"}
        Data type (see the module table).
    length : int, optional
        Declared length of a text variable in bytes (at most 200); by default the longest value.
    role : str, optional
        SDTM role (``Identifier``, ``Topic``, ``Timing``, ...), or ``None`` in ADaM.
    core : {"Req", "Exp", "Perm"}, optional
        Whether the standard requires, expects or permits the variable.
    codelist : str, optional
        Name of the controlled terminology codelist the values come from.
    origin : str
        Define-XML origin type.
    source : str, optional
        For ``Predecessor`` the ``DATASET.VARIABLE`` it copies; for ``Collected`` the form.
    derivation : str, optional
        How a ``Derived`` value is computed (Define-XML method text).
    identifying : bool
        Free text that may identify a person (a deviation's description, a note): blanked
        when a package is de-identified (:mod:`cletrial.standards.deidentify`).
    """

    name: str
    label: str
    type: VariableType
    length: int | None = None
    role: str | None = None
    core: Literal["Req", "Exp", "Perm"] | None = None
    codelist: str | None = None
    origin: Origin = "Collected"
    source: str | None = None
    derivation: str | None = None
    identifying: bool = False

    def check(self, dataset: str) -> Variable:
        """Raise :class:`~cletrial.errors.StandardsError` unless the SAS transport limits hold.

        >>> Variable("AGE", "Age", "integer").check("DM").name
        'AGE'
        """
        where = f"{dataset}.{self.name}"
        if len(self.name) > MAX_NAME or not _NAME.match(self.name):
            raise _name_error(where)
        if not self.label or len(self.label) > MAX_LABEL:
            raise StandardsError(
                f"{where}: label {self.label!r} has {len(self.label)} characters; "
                f"a label has 1 to {MAX_LABEL}"
            )
        if self.type not in _TYPES:
            raise StandardsError(f"{where}: type {self.type!r} is not one of {list(_TYPES)}")
        if self.length is not None and not 1 <= self.length <= MAX_TEXT_BYTES:
            raise StandardsError(f"{where}: length {self.length} is not from 1 to {MAX_TEXT_BYTES}")
        if self.origin == "Derived" and not self.derivation:
            raise StandardsError(f"{where}: a Derived variable needs its derivation text")
        return self


@dataclass(frozen=True)
class ValueLevel:
    """Value-level metadata: how ``variable`` is described where ``key`` equals ``value``
    (Define-XML ``def:ValueListDef`` + ``def:WhereClauseDef``), e.g. ``LBORRES`` where
    ``LBTESTCD`` is ``NEUT``, or ``AVAL`` where ``PARAMCD`` is ``CLASIA``.

    >>> vlm = ValueLevel("AVAL", "PARAMCD", "CLASIA", "CLASI activity score", "integer",
    ...                  origin="Derived", derivation="Sum of the CLASI activity items.")
    >>> vlm.check("ADRS", ("PARAMCD", "AVAL")).value
    'CLASIA'
    """

    variable: str
    key: str
    value: str
    label: str
    type: VariableType
    length: int | None = None
    codelist: str | None = None
    origin: Origin = "Collected"
    derivation: str | None = None

    def check(self, dataset: str, names: tuple[str, ...]) -> ValueLevel:
        """Raise :class:`~cletrial.errors.StandardsError` unless both variables exist."""
        where = f"{dataset}.{self.variable} where {self.key} = {self.value!r}"
        for name in (self.variable, self.key):
            if name not in names:
                raise StandardsError(f"{where}: {name} is not a variable of {dataset}")
        if self.type not in _TYPES:
            raise StandardsError(f"{where}: type {self.type!r} is not one of {list(_TYPES)}")
        if self.origin == "Derived" and not self.derivation:
            raise StandardsError(f"{where}: a Derived value needs its derivation text")
        return self


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's metadata: name, label, class, structure, keys, standard and variables.

    ``domain_class`` is the SDTM observation class (``SPECIAL PURPOSE``, ``EVENTS``,
    ``INTERVENTIONS``, ``FINDINGS``, ``TRIAL DESIGN``) or the ADaM class (``SUBJECT LEVEL
    ANALYSIS DATASET``, ``BASIC DATA STRUCTURE``, ``OCCURRENCE DATA STRUCTURE``).
    """

    name: str
    label: str
    domain_class: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]
    standard: str
    comment: str | None = None
    #: Value-level metadata of findings datasets keyed by a test code (LBTESTCD, PARAMCD, ...).
    value_level: tuple[ValueLevel, ...] = ()
    _index: dict[str, Variable] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {v.name: v for v in self.variables})

    @property
    def names(self) -> tuple[str, ...]:
        """Variable names in dataset order."""
        return tuple(v.name for v in self.variables)

    def variable(self, name: str) -> Variable:
        """The variable called ``name``; :class:`~cletrial.errors.StandardsError` if none."""
        try:
            return self._index[name]
        except KeyError:
            raise StandardsError(f"{self.name}: no variable {name!r}") from None

    def check(self) -> DatasetSpec:
        """Check names, labels, unique variables and keys; return ``self``."""
        if len(self.name) > MAX_NAME or not _NAME.match(self.name):
            raise _name_error(self.name)
        if not self.label or len(self.label) > MAX_LABEL:
            raise StandardsError(f"{self.name}: dataset label {self.label!r} is not 1-40 long")
        if len(self._index) != len(self.variables):
            raise StandardsError(f"{self.name}: a variable name appears twice")
        for v in self.variables:
            v.check(self.name)
        missing = [k for k in self.keys if k not in self._index]
        if missing:
            raise StandardsError(f"{self.name}: key variables {missing} are not variables")
        for vlm in self.value_level:
            vlm.check(self.name, self.names)
        return self


def _bad_value(ds: str, var: Variable, row: int, value: object, problem: str) -> StandardsError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return StandardsError(f"{ds}.{var.name}, row {row + 1} = {shown}: {problem}")


def _check_column(ds: str, var: Variable, values: pd.Series) -> None:
    for row, value in enumerate(values.tolist()):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if var.type in ("text", "iso8601"):
            if not isinstance(value, str):
                raise _bad_value(ds, var, row, value, f"a {var.type} value must be a string")
            size = len(value.encode("utf-8"))
            limit = var.length or MAX_TEXT_BYTES
            if size > limit:
                raise _bad_value(ds, var, row, value, f"{size} bytes; at most {limit}")
            if var.type == "iso8601" and not _ISO_DATE.match(value):
                raise _bad_value(ds, var, row, value, "must be an ISO 8601 date YYYY[-MM[-DD]]")
        elif var.type == "sas_date":
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                raise _bad_value(ds, var, row, value, "a sas_date value must be a datetime.date")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad_value(ds, var, row, value, f"an {var.type} value must be a number")
        elif var.type == "integer" and not float(value).is_integer():
            raise _bad_value(ds, var, row, value, "an integer value must be a whole number")
        elif not math.isfinite(value):
            raise _bad_value(ds, var, row, value, "must be finite (missing is NaN)")


def _distinct_present(values: pd.Series) -> list[object]:
    """The distinct values of a column, missing ones (None, NaN) left out. A column of a study
    holds few distinct values (dates, codes, terms), so the checks below look at each once."""
    return [v for v in pd.unique(values.to_numpy()).tolist() if not _is_missing(v)]


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fast_ok(var: Variable, values: pd.Series) -> bool:
    """Whether the whole column certainly passes :func:`_check_column` (vectorised, or on its
    distinct values); ``False`` means "not sure": the row-by-row check then runs and names the
    first bad value."""
    if var.type in ("integer", "float"):
        if values.dtype.kind != "f":
            return False
        arr = values.to_numpy()
        present = arr[~np.isnan(arr)]
        whole = var.type == "float" or bool((present == np.floor(present)).all())
        return whole and bool(np.isfinite(present).all())
    if values.dtype != object:
        return False
    distinct = _distinct_present(values)
    if var.type == "sas_date":
        return all(type(v) is dt.date for v in distinct)
    if var.type not in ("text", "iso8601"):
        return False
    if not all(type(v) is str for v in distinct):
        return False
    limit = var.length or MAX_TEXT_BYTES
    if any(len(str(v).encode("utf-8")) > limit for v in distinct):
        return False
    return var.type == "text" or all(_ISO_DATE.match(str(v)) for v in distinct)


@dataclass(frozen=True)
class Dataset:
    """A dataset: its specification and a frame whose columns are the spec's variables, in
    order."""

    spec: DatasetSpec
    frame: pd.DataFrame
    #: Longest text of each variable without a declared length, in bytes, once computed (the
    #: frame is not changed once the dataset is made).
    _lengths: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: ``{"passed": True}`` once :meth:`check` has passed (checked once, for the same reason).
    _checked: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The dataset name (``DM``, ``ADSL``, ...)."""
        return self.spec.name

    def check(self) -> Dataset:
        """Check the spec and every value against its variable; return ``self``.

        Raises
        ------
        cletrial.errors.StandardsError
            Naming the dataset, variable, row and value: a column missing, extra or out of
            order, a text over its length, a value of the wrong type.
        """
        if self._checked:
            return self
        self.spec.check()
        columns = tuple(str(c) for c in self.frame.columns)
        if columns != self.spec.names:
            raise StandardsError(
                f"{self.name}: columns {list(columns)} are not the specification's "
                f"variables {list(self.spec.names)}"
            )
        for var in self.spec.variables:
            column = self.frame[var.name]
            if not _fast_ok(var, column):
                _check_column(self.name, var, column)
        self._checked["passed"] = True
        return self

    def text_length(self, name: str) -> int:
        """Declared length of a text variable, else its longest value in bytes (at least 1)."""
        var = self.spec.variable(name)
        if var.length is not None:
            return var.length
        if name not in self._lengths:
            texts = [v for v in _distinct_present(self.frame[name]) if isinstance(v, str)]
            self._lengths[name] = max([1, *(len(v.encode("utf-8")) for v in texts)])
        return self._lengths[name]
