"""SAS transport (XPORT version 5) files of checked datasets, written with pyreadstat.

:func:`write_xpt` checks the dataset first (:meth:`Dataset.check`: names of at most 8
characters, labels of at most 40, text values of at most 200 bytes or the declared length,
each value of its variable's type) and refuses with :class:`~cletrial.errors.StandardsError`
rather than truncating; nothing is written then. The file is written atomically.

pyreadstat writes the headers (library, member, variables) of a frame holding the first row;
the observations are then encoded a chunk at a time with NumPy
(:mod:`cletrial.standards.xpt_observations`), in place of pyreadstat's, which it writes value
by value through Python. The first row as encoded is checked against the row pyreadstat
wrote, and the bytes are those pyreadstat writes for the whole frame.

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
from typing import Any, BinaryIO, Final

import pandas as pd
import pyreadstat

from cletrial.errors import StandardsError
from cletrial.files import replace_atomically
from cletrial.standards.metadata import Dataset
from cletrial.standards.xpt_observations import SAS_EPOCH, Layout, observation_chunks

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


def transport_frame(dataset: Dataset, rows: int | None = None) -> pd.DataFrame:
    """The frame pyreadstat writes: text padded to its declared width, numbers as floats.

    Only the first ``rows`` rows when given (the width is still the whole dataset's).

    >>> import pandas as pd
    >>> from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
    >>> spec = DatasetSpec("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
    ...     (), (Variable("SEX", "Sex", "text", length=2),), "SDTMIG 3.4")
    >>> transport_frame(Dataset(spec, pd.DataFrame({"SEX": [None, "F"]})))["SEX"].tolist()
    ['  ', 'F']
    """
    frame = dataset.frame if rows is None else dataset.frame.iloc[:rows]
    columns: dict[str, Any] = {}
    for var in dataset.spec.variables:
        values = frame[var.name]
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
            days = [math.nan if gone else float((_date(v) or v).toordinal() - SAS_EPOCH)
                    for v, gone in zip(values.tolist(), absent.tolist(), strict=True)]  # fmt: skip
            columns[var.name] = pd.Series(days, dtype="float64")
        else:
            columns[var.name] = pd.to_numeric(values, errors="raise").astype("float64")
    return pd.DataFrame(columns, index=range(len(frame)))


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
    formats = {v.name: "DATE9." for v in spec.variables if v.type == "sas_date"}

    def write(temporary: Path) -> None:
        pyreadstat.write_xport(
            transport_frame(dataset, rows=1), str(temporary), file_label=spec.label,
            column_labels=[v.label for v in spec.variables], table_name=spec.name,
            file_format_version=5, variable_format=formats,
        )  # fmt: skip
        if len(dataset.frame):
            with temporary.open("r+b") as out:
                _replace_observations(dataset, out)

    return replace_atomically(path, write)


#: Bytes of a SAS transport record; the observations end with blanks to a whole record.
_RECORD: Final = 80


def _layout(dataset: Dataset) -> list[Layout]:
    layout, offset = [], 0
    for var in dataset.spec.variables:
        width = dataset.text_length(var.name) if var.type in ("text", "iso8601") else 8
        layout.append(Layout(var, offset, width))
        offset += width
    return layout


def _replace_observations(dataset: Dataset, out: BinaryIO) -> None:
    """Replace the one observation pyreadstat wrote at the end of ``out`` by all of them.

    The headers end with a whole record; the observation after them is padded to one.
    """
    layout = _layout(dataset)
    row_length = sum(place.width for place in layout)
    header = out.seek(0, 2) - math.ceil(row_length / _RECORD) * _RECORD
    out.seek(header)
    first = out.read(row_length)
    out.seek(header)
    out.truncate()
    written = 0
    for chunk in observation_chunks(dataset, layout):
        if not written and chunk[0].tobytes() != first:
            raise StandardsError(
                f"{dataset.name}: the first observation encoded differs from pyreadstat's; "
                "nothing was written (report this: the installed pyreadstat writes another way)"
            )
        out.write(chunk.tobytes())
        written += chunk.size
    out.write(b" " * (-written % _RECORD))


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
