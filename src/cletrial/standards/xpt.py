"""SAS transport (XPORT version 5) files of checked datasets, written with pyreadstat.

:func:`write_xpt` checks the dataset first (:meth:`Dataset.check`: names of at most 8
characters, labels of at most 40, text values of at most 200 bytes or the declared length,
each value of its variable's type) and refuses with :class:`~cletrial.errors.StandardsError`
rather than truncating; nothing is written then. The file is written atomically.

How each type is stored: ``text`` and ``iso8601`` as character variables whose width is the
declared length (pyreadstat sizes a column by its longest value, so the first value is padded
with blanks to the declared length; SAS and readstat strip trailing blanks); ``integer`` and
``float`` as numeric; ``sas_date`` as numeric days since 1960-01-01 with format ``DATE9.``.
Missing text is blank, missing numbers and dates are ``.``; :func:`read_xpt` returns them as
``None`` / ``NaN`` / ``None``, so a dataset reads back equal to what was written (text values
with trailing blanks lose them, as in SAS).

>>> import tempfile, pathlib, datetime as dt, pandas as pd
>>> from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
>>> spec = DatasetSpec("ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET",
...     "One record per subject", ("USUBJID",), (Variable("USUBJID", "Unique Subject Identifier",
...     "text", length=20), Variable("TRTSDT", "Date of First Exposure to Treatment", "sas_date")),
...     "ADaMIG 1.3")
>>> ds = Dataset(spec, pd.DataFrame({"USUBJID": ["S1-P01"], "TRTSDT": [dt.date(2024, 1, 5)]}))
>>> path = write_xpt(ds, pathlib.Path(tempfile.mkdtemp()) / "adsl.xpt")
>>> frame = read_xpt(path)
>>> frame.attrs["name"], frame.attrs["widths"]["USUBJID"], frame["TRTSDT"][0]
('ADSL', 20, datetime.date(2024, 1, 5))
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from cletrial.errors import StandardsError
from cletrial.files import replace_atomically
from cletrial.standards.metadata import Dataset

__all__ = ["read_xpt", "write_xpt"]

_ADVICE = (
    "nothing was written; correct the dataset (a long text goes to a SUPP-- record or is split "
    "into numbered variables, a name or label is shortened, a value gets its variable's type)"
)


def _checked(dataset: Dataset, path: Path) -> Dataset:
    try:
        return dataset.check()
    except StandardsError as exc:
        raise StandardsError(f"{exc}; {path.name}: {_ADVICE}") from None


def transport_frame(dataset: Dataset) -> pd.DataFrame:
    """The frame pyreadstat writes: text padded to its declared width, numbers as floats.

    >>> import pandas as pd
    >>> from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
    >>> spec = DatasetSpec("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
    ...     (), (Variable("SEX", "Sex", "text", length=2),), "SDTMIG 3.4")
    >>> transport_frame(Dataset(spec, pd.DataFrame({"SEX": [None, "F"]})))["SEX"].tolist()
    ['  ', 'F']
    """
    columns: dict[str, Any] = {}
    for var in dataset.spec.variables:
        values = dataset.frame[var.name]
        absent = values.isna().to_numpy()
        if var.type in ("text", "iso8601"):
            shown = values.to_numpy(dtype=object).copy()
            shown[absent] = ""
            texts = shown.tolist()
            if texts:  # the first value carries the width (readstat strips trailing blanks)
                width = dataset.text_length(var.name)
                texts[0] += " " * (width - len(texts[0].encode("utf-8")))
            columns[var.name] = pd.Series(texts, dtype=object)
        elif var.type == "sas_date":  # numeric days since 1960-01-01, even when all missing
            days = [math.nan if gone else float((_date(v) or v).toordinal() - _SAS_EPOCH)
                    for v, gone in zip(values.tolist(), absent.tolist(), strict=True)]  # fmt: skip
            columns[var.name] = pd.Series(days, dtype="float64")
        else:
            columns[var.name] = pd.to_numeric(values, errors="raise").astype("float64")
    return pd.DataFrame(columns, index=range(len(dataset.frame)))


def write_xpt(dataset: Dataset, path: Path | str, *, checked: bool = False) -> Path:
    """Write ``dataset`` to a SAS transport version 5 file, atomically.

    Parameters
    ----------
    dataset : Dataset
        Checked here; the file name conventionally is the lower-case dataset name.
    path : Path or str
        Target file.
    checked : bool
        The caller has checked the dataset (:meth:`Dataset.check`) and not changed it since,
        so it is not checked again (a package writes each dataset in two formats).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    cletrial.errors.StandardsError
        A name over 8 characters, a label over 40, a text over 200 bytes (or its declared
        length; bytes of UTF-8, so non-ASCII text counts more than one per character), a value
        of the wrong type: naming dataset, variable, row and value. Nothing is written.
    """
    path = Path(path)
    spec = (dataset if checked else _checked(dataset, path)).spec
    frame = transport_frame(dataset)
    formats = {v.name: "DATE9." for v in spec.variables if v.type == "sas_date"}

    def write(temporary: Path) -> None:
        pyreadstat.write_xport(
            frame, str(temporary), file_label=spec.label,
            column_labels=[v.label for v in spec.variables], table_name=spec.name,
            file_format_version=5, variable_format=formats,
        )  # fmt: skip

    return replace_atomically(path, write)


#: Day 0 of SAS dates (1960-01-01) as a proleptic Gregorian ordinal.
_SAS_EPOCH = dt.date(1960, 1, 1).toordinal()


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def read_xpt(path: Path | str) -> pd.DataFrame:
    """Read a SAS transport file: blank text as ``None``, ``DATE9.`` columns as dates.

    ``frame.attrs`` holds ``name`` and ``label`` of the dataset, and per variable ``labels``,
    ``types`` (``string`` or ``double``), ``formats`` and ``widths`` (bytes).
    """
    frame, meta = pyreadstat.read_xport(str(path))
    types: dict[str, str] = dict(meta.readstat_variable_types)
    formats = {k: v for k, v in meta.original_variable_types.items() if v}
    for name, kind in types.items():
        if kind == "string":
            frame[name] = pd.Series([v or None for v in frame[name].tolist()], dtype=object)
        elif formats.get(name, "").startswith("DATE"):
            frame[name] = pd.Series([_date(v) for v in frame[name].tolist()], dtype=object)
    frame.attrs.update(
        name=meta.table_name, label=meta.file_label, labels=dict(meta.column_names_to_labels),
        types=types, formats=formats, widths=dict(meta.variable_storage_width),
    )  # fmt: skip
    return frame
