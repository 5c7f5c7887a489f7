"""SDTM TI (trial inclusion/exclusion criteria), from the protocol definition's eligibility.

One record per criterion, in protocol order: ``IETESTCD`` is the criterion's id (``I1``-``I6``
inclusions, ``E1``-``E9`` exclusions, the ids the screening's eligibility result uses, so an IE
record names the same code), ``IECAT`` ``INCLUSION`` or ``EXCLUSION``, ``IETEST`` the criterion's
text with the protocol's numbers (:func:`cletrial.protocol.eligibility.criterion_texts`), cut at a
word to SDTM's 200 characters when longer (the full text stays in the protocol), and ``TIVERS``
the protocol definition's version.

>>> from cletrial.protocol import load_protocol
>>> ti = build_ti("S", load_protocol().file)
>>> len(ti.frame), ti.frame[["IETESTCD", "IECAT"]].values.tolist()[::8]
(15, [['I1', 'INCLUSION'], ['E3', 'EXCLUSION']])
>>> ti.frame["IETEST"].iloc[0]
'Age 18 or over at screening'
"""

from __future__ import annotations

from typing import Final

from cletrial.protocol.definition_model import ProtocolFile
from cletrial.protocol.eligibility import criterion_texts
from cletrial.standards.metadata import MAX_TEXT_BYTES, Dataset
from cletrial.standards.sdtm._frame import STUDYID, domain_spec, to_dataset, var
from cletrial.vocabulary import CRITERION_CATEGORY

__all__ = ["CRITERION_VARIABLES", "TI_SPEC", "build_ti", "compute_ietest"]

#: The variables naming a criterion, as TI and IE both give them.
CRITERION_VARIABLES: Final = (
    var("IETESTCD", "Incl/Excl Criterion Short Name", "text", "Topic", "Req", origin="Protocol"),
    var("IETEST", "Inclusion/Exclusion Criterion", "text", "Synonym Qualifier", "Req",
        origin="Protocol"),
    var("IECAT", "Inclusion/Exclusion Category", "text", "Grouping Qualifier", "Req",
        origin="Protocol", codelist="IECAT"),
)  # fmt: skip

TI_SPEC = domain_spec(
    "TI", "Trial Inclusion/Exclusion Criteria", "TRIAL DESIGN",
    "One record per I/E criterion", ("STUDYID", "IETESTCD"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        *CRITERION_VARIABLES,
        var("TIVERS", "Protocol Criteria Versions", "text", "Record Qualifier", "Perm",
            origin="Protocol"),
    ],
)  # fmt: skip


def compute_ietest(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """``IETEST`` of a criterion: its text with a capital first letter, cut at a word so that
    it fits ``limit`` bytes (UTF-8), ``...`` marking a cut.

    >>> compute_ietest("age 18 or over")
    'Age 18 or over'
    >>> compute_ietest("one two three four", limit=12)
    'One two...'
    """
    text = text[:1].upper() + text[1:]
    if len(text.encode("utf-8")) <= limit:
        return text
    room = limit - 3
    cut = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "..."


def build_ti(studyid: str, protocol: ProtocolFile) -> Dataset:
    """TI: every inclusion and exclusion criterion of ``protocol``, in protocol order."""
    rows = []
    for code, text in criterion_texts(protocol.eligibility).items():
        kind = "inclusion" if code.startswith("I") else "exclusion"
        rows.append({"STUDYID": studyid, "DOMAIN": "TI", "IETESTCD": code,
                     "IETEST": compute_ietest(text), "IECAT": CRITERION_CATEGORY.submission(kind),
                     "TIVERS": protocol.version})  # fmt: skip
    return to_dataset(TI_SPEC, rows)
