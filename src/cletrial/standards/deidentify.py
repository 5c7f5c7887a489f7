"""De-identify a package's datasets: new subject codes, dates shifted per patient, ages capped,
identifying text blanked.

What changes, in every dataset that has ``USUBJID``:

* ``SUBJID`` becomes a code derived from a secret key (``D`` + 8 hexadecimal digits, keyed
  BLAKE2b of the original ``USUBJID``), and ``USUBJID`` is rebuilt from it; the mapping cannot
  be recomputed without the key, which is never written anywhere.
* Every date (``iso8601`` and ``sas_date`` variables) moves by one offset per patient, from
  -183 to +183 days, drawn from the same key: intervals within a patient and study days
  (``--DY``, ``ADY``) are kept, calendar dates are not.
* ``AGE`` over 89 becomes 90 (the HIPAA Safe Harbor rule for ages).
* Variables marked ``Variable.identifying`` (free text that may name a person, e.g. a
  deviation's description) are blanked.

Trial design datasets (no ``USUBJID``) are unchanged. With the same key the result is the same,
which is what a test needs; a submission draws a fresh random key each run.

>>> import datetime as dt, pandas as pd
>>> from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
>>> spec = DatasetSpec("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
...     ("USUBJID",), (Variable("STUDYID", "Study Identifier", "text"),
...     Variable("SITEID", "Study Site Identifier", "text"),
...     Variable("SUBJID", "Subject Identifier for the Study", "text"),
...     Variable("USUBJID", "Unique Subject Identifier", "text"),
...     Variable("RFSTDTC", "Subject Reference Start Date/Time", "iso8601"),
...     Variable("AGE", "Age", "integer")), "SDTMIG 3.4")
>>> dm = Dataset(spec, pd.DataFrame({"STUDYID": ["S"], "SITEID": ["H01"], "SUBJID": ["P01"],
...     "USUBJID": ["S-H01-P01"], "RFSTDTC": ["2009-03-02"], "AGE": [93.0]}))
>>> out = deidentify_datasets({"DM": dm}, key=b"k" * 32)["DM"].frame
>>> out["SUBJID"][0] != "P01", out["USUBJID"][0] == "S-H01-" + out["SUBJID"][0]
(True, True)
>>> out["RFSTDTC"][0] != "2009-03-02", float(out["AGE"][0])
(True, 90.0)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from cletrial.standards.metadata import Dataset

__all__ = ["MAX_SHIFT_DAYS", "deidentify_datasets", "new_key"]

#: Dates move by at most this many days either way.
MAX_SHIFT_DAYS: Final = 183
#: Ages above this are reported as this plus one (HIPAA Safe Harbor: ages over 89).
MAX_AGE: Final = 89


def new_key() -> bytes:
    """A fresh random 32-byte key (never stored).

    >>> len(new_key())
    32
    """
    return secrets.token_bytes(32)


def _digest(key: bytes, usubjid: str, purpose: bytes) -> bytes:
    return hashlib.blake2b(usubjid.encode("utf-8"), key=key, person=purpose).digest()


def _subject_code(key: bytes, usubjid: str) -> str:
    return "D" + _digest(key, usubjid, b"subjid").hex()[:8].upper()


def _offset(key: bytes, usubjid: str) -> int:
    number = int.from_bytes(_digest(key, usubjid, b"shift")[:8], "big")
    return number % (2 * MAX_SHIFT_DAYS + 1) - MAX_SHIFT_DAYS


def _shift_iso(value: Any, days: int) -> Any:
    if not isinstance(value, str) or len(value) < 10:
        return None if isinstance(value, str) else value  # partial dates are dropped
    return (dt.date.fromisoformat(value[:10]) + dt.timedelta(days=days)).isoformat() + value[10:]


def _shift_date(value: Any, days: int) -> Any:
    return value + dt.timedelta(days=days) if isinstance(value, dt.date) else value


def _new_subjects(datasets: Mapping[str, Dataset], key: bytes) -> dict[str, str]:
    """Old USUBJID -> new: ``STUDYID-SITEID-code`` from DM, else the old prefix and the code."""
    subjects: dict[str, str] = {}
    dm = datasets.get("DM")
    if dm is not None and {"STUDYID", "SITEID"} <= set(dm.spec.names):
        for study, site, usubjid in zip(
            dm.frame["STUDYID"], dm.frame["SITEID"], dm.frame["USUBJID"], strict=True
        ):
            if isinstance(usubjid, str):
                subjects[usubjid] = f"{study}-{site}-{_subject_code(key, usubjid)}"
    for ds in datasets.values():
        if "USUBJID" in ds.spec.names:
            for usubjid in ds.frame["USUBJID"].dropna().unique():
                if usubjid not in subjects:
                    prefix = usubjid.rsplit("-", 1)[0] if "-" in usubjid else "D"
                    subjects[usubjid] = f"{prefix}-{_subject_code(key, usubjid)}"
    return subjects


def _deidentify(ds: Dataset, key: bytes, subjects: Mapping[str, str]) -> Dataset:
    frame = ds.frame.copy()
    old = frame["USUBJID"]
    offsets = old.map(lambda u: _offset(key, u) if isinstance(u, str) else 0)
    for var in ds.spec.variables:
        column = frame[var.name]
        if var.identifying:
            frame[var.name] = None if var.type in ("text", "iso8601", "sas_date") else float("nan")
        elif var.type == "iso8601":
            frame[var.name] = [_shift_iso(v, d) for v, d in zip(column, offsets, strict=True)]
        elif var.type == "sas_date":
            frame[var.name] = [_shift_date(v, d) for v, d in zip(column, offsets, strict=True)]
    if "AGE" in frame:
        frame["AGE"] = frame["AGE"].where(~(frame["AGE"] > MAX_AGE), float(MAX_AGE + 1))
    if "SUBJID" in frame:
        frame["SUBJID"] = old.map(lambda u: _subject_code(key, u) if isinstance(u, str) else None)
    frame["USUBJID"] = old.map(lambda u: subjects.get(u) if isinstance(u, str) else None)
    return replace(ds, frame=frame)


def deidentify_datasets(
    datasets: Mapping[str, Dataset], *, key: bytes | None = None
) -> dict[str, Dataset]:
    """De-identify every subject-level dataset of a package (see the module text).

    Parameters
    ----------
    datasets : mapping of str to Dataset
        SDTM and ADaM datasets by name.
    key : bytes, optional
        Secret of at least 16 bytes deciding the new codes and the date offsets; a fresh random
        key when omitted.

    Returns
    -------
    dict of str to Dataset
        New datasets (the inputs are not changed), in the same order.
    """
    key = new_key() if key is None else key
    if len(key) < 16:
        raise ValueError("the de-identification key needs at least 16 bytes")
    subjects = _new_subjects(datasets, key)
    return {
        name: _deidentify(ds, key, subjects) if "USUBJID" in ds.spec.names else ds
        for name, ds in datasets.items()
    }
