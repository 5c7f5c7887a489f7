"""SDTM IE (inclusion/exclusion criteria not met), from each subject's screening record.

IE holds the exceptions only: for every subject, each criterion the screening record fails. The
record is assessed again by the protocol's own eligibility rules
(:func:`cletrial.protocol.eligibility.assess_eligibility`), the ones the site saw at screening.
An inclusion criterion not met is ``IEORRES`` ``N``, an exclusion criterion met is ``Y``.
``IETESTCD`` is the criterion's id, the code TI gives it, and ``IETEST`` TI's text. A
criterion the record leaves undecided (an item not recorded) is not an exception, so it gives
no record: missing is not reported as failed. A subject enrolled despite a failed criterion
(an enrolment override) has that criterion in IE, as SDTMIG asks for.

The screening record reaches the standards without the date of birth. The age criterion is
then assessed on the age the store computed from it (:attr:`SubjectSource.age`).

>>> import datetime as dt
>>> from cletrial.protocol import load_protocol
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1"), history={}, age=17,
...                   screening_date=dt.date(2009, 1, 5), screening={"hiv": True})
>>> ie = build_ie([s], load_protocol().file).frame
>>> ie[["IESEQ", "IETESTCD", "IECAT", "IEORRES", "IEDTC"]].values.tolist()
[[1.0, 'I1', 'INCLUSION', 'N', '2009-01-05'], [2.0, 'E9', 'EXCLUSION', 'Y', '2009-01-05']]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cletrial.errors import ScreeningError, StandardsError
from cletrial.protocol.definition import compile_protocol
from cletrial.protocol.definition_model import ProtocolFile
from cletrial.protocol.eligibility import assess_eligibility
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import STUDYID, USUBJID, domain_spec, to_dataset, var
from cletrial.standards.sdtm.common import iso
from cletrial.standards.sdtm.source import SubjectSource
from cletrial.standards.sdtm.trial_criteria import CRITERION_VARIABLES, compute_ietest
from cletrial.vocabulary import CRITERION_CATEGORY, EPOCH

__all__ = ["IE_SPEC", "build_ie"]

IE_SPEC = domain_spec(
    "IE", "Inclusion/Exclusion Criteria Not Met", "FINDINGS",
    "One record per inclusion/exclusion criterion not met per subject",
    ("STUDYID", "USUBJID", "IETESTCD"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        USUBJID,
        var("IESEQ", "Sequence Number", "integer", "Identifier", "Req", origin="Derived",
            derivation="Subject's IE records numbered from 1 in protocol order (inclusions, "
            "then exclusions)"),
        *CRITERION_VARIABLES,
        var("IEORRES", "I/E Criterion Original Result", "text", "Result Qualifier", "Req",
            origin="Derived", codelist="NY",
            derivation="The screening record assessed by the protocol's eligibility rules: N "
            "for an inclusion criterion not met, Y for an exclusion criterion met"),
        var("IESTRESC", "I/E Criterion Result in Std Format", "text", "Result Qualifier",
            "Req", origin="Derived", codelist="NY", derivation="IEORRES"),
        var("EPOCH", "Epoch", "text", "Timing", "Perm", origin="Assigned", codelist="EPOCH"),
        var("IEDTC", "Date/Time of Collection", "iso8601", "Timing", "Perm", origin="Derived",
            derivation="Screening date"),
    ],
)  # fmt: skip


def _record(s: SubjectSource) -> dict[str, Any]:
    """The screening record as the eligibility rules read it (age from the store when the
    record has neither a date of birth nor an age)."""
    record = dict(s.screening)
    if s.age is not None and record.get("age_years") is None and "birth_date" not in record:
        record["age_years"] = s.age
    if "screening_date" not in record and s.screening_date is not None:
        record["screening_date"] = s.screening_date.isoformat()
    return record


def build_ie(subjects: Sequence[SubjectSource], protocol: ProtocolFile) -> Dataset:
    """IE of every subject with a screening record.

    Raises
    ------
    cletrial.errors.StandardsError
        A stored screening record the eligibility rules refuse (naming the subject and field).
    """
    definition = compile_protocol(protocol, f"<{protocol.id}>")
    screening = EPOCH.submission("screening")
    records: list[dict[str, Any]] = []
    for s in subjects:
        if not s.screening:
            continue
        try:
            result = assess_eligibility(_record(s), definition)
        except ScreeningError as exc:
            raise StandardsError(f"IE: the screening record of {s.usubjid} is refused: "
                                 f"{exc}") from None  # fmt: skip
        failed = [c for c in result.criteria
                  if (c.kind == "inclusion" and c.status == "not_met")
                  or (c.kind == "exclusion" and c.status == "met")]  # fmt: skip
        for seq, c in enumerate(failed, start=1):
            answer = "N" if c.kind == "inclusion" else "Y"
            records.append({
                "STUDYID": s.ref.studyid, "DOMAIN": "IE", "USUBJID": s.usubjid, "IESEQ": seq,
                "IETESTCD": c.id, "IETEST": compute_ietest(c.text),
                "IECAT": CRITERION_CATEGORY.submission(c.kind), "IEORRES": answer,
                "IESTRESC": answer, "EPOCH": screening, "IEDTC": iso(s.screening_date),
            })  # fmt: skip
    return to_dataset(IE_SPEC, records)
