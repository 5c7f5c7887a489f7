"""SDTM RS (disease response): the CLASI response at each visit with a CLASI-A.

One record per assessed visit (``RSTESTCD`` ``CLASIRSP``), classified by the one engine,
:func:`cletrial.endpoints.visit_response.compute_visit_responses`, with the protocol's
thresholds: ``CR`` (CLASI-A 0), ``PR`` (at least 50% better than baseline), ``NR``, or ``NE``
(baseline CLASI-A missing or 0). The best response over the course is ADaM's (ADRS); RS holds
the visits it is made of. ``VISITNUM``/``VISIT`` are SV's.

>>> import datetime as dt
>>> from cletrial.protocol import load_protocol
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1", dt.date(2010, 1, 4)), history={
...     "patient_id": "P1", "doses": [{"date": "2010-01-04", "regimen": "5_daily"}],
...     "baseline": {"date": "2010-01-04", "clasi": {"activity": 10}},
...     "assessments": [{"date": "2010-02-01", "clasi": {"activity": 4}}]})
>>> provenance = []
>>> rs = build_rs([s], load_protocol().file, {}, provenance)
>>> rs.frame[["RSTESTCD", "RSORRES", "RSDTC", "RSDY"]].values.tolist()
[['CLASIRSP', 'PR', '2010-02-01', 29.0]]
>>> provenance[0].array, provenance[0].index
('assessments', 0)
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from cletrial.endpoints.course import course_from_history
from cletrial.endpoints.rules import EndpointRules
from cletrial.endpoints.visit_response import compute_visit_responses
from cletrial.errors import CletrialError
from cletrial.protocol.definition_model import ProtocolFile
from cletrial.protocol.history import PatientHistory, parse_history
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import (
    STUDYID,
    USUBJID,
    VISIT,
    VISITNUM,
    collect,
    domain_spec,
    to_dataset,
    var,
)
from cletrial.standards.sdtm.common import Provenance, assign_seq, study_day
from cletrial.standards.sdtm.source import SubjectSource

__all__ = ["RS_SPEC", "build_rs"]

#: The history keys a visit's response depends on (the first dose anchors the days).
_RESPONSE_KEYS: Final = frozenset({"first_dose_date", "baseline", "assessments", "doses"})

_RULE: Final = (
    "At each visit with a CLASI-A: CR when CLASI-A <= the protocol's complete-response maximum; "
    "else NE when the baseline CLASI-A is missing or 0; else PR when it improved by at least the "
    "partial-response percentage from baseline; else NR (cletrial.endpoints.visit_response)"
)

RS_SPEC = domain_spec(
    "RS",
    "Disease Response and Clin Classification",
    "FINDINGS",
    "One record per response assessment per visit per subject",
    ("STUDYID", "USUBJID", "RSTESTCD", "RSDTC"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        USUBJID,
        var(
            "RSSEQ",
            "Sequence Number",
            "integer",
            "Identifier",
            "Req",
            origin="Derived",
            derivation="1, 2, ... per subject in date then test order",
        ),
        var("RSTESTCD", "Assessment Short Name", "text", "Topic", "Req", origin="Assigned"),
        var("RSTEST", "Assessment Name", "text", "Synonym Qualifier", "Req", origin="Assigned"),
        var(
            "RSCAT",
            "Category for Assessment",
            "text",
            "Grouping Qualifier",
            "Perm",
            origin="Assigned",
        ),
        var(
            "RSORRES",
            "Result or Finding in Original Units",
            "text",
            "Result Qualifier",
            "Exp",
            origin="Derived",
            derivation=_RULE,
        ),
        var(
            "RSSTRESC",
            "Character Result/Finding in Std Format",
            "text",
            "Result Qualifier",
            "Exp",
            origin="Derived",
            derivation="RSORRES",
        ),
        var("RSEVAL", "Evaluator", "text", "Record Qualifier", "Perm", origin="Assigned"),
        VISITNUM,
        VISIT,
        var("RSDTC", "Date/Time of Assessment", "iso8601", "Timing", "Exp"),
        var(
            "RSDY",
            "Study Day of Assessment",
            "integer",
            "Timing",
            "Perm",
            origin="Derived",
            derivation="RSDTC - RFSTDTC (+1 on or after RFSTDTC)",
        ),
    ],
)


def _shared_parse(s: SubjectSource, parsed: dict[str, PatientHistory]) -> PatientHistory | None:
    """The whole history parsed once for RS and ADaM (kept in ``parsed``), or None when it
    does not parse or names another patient: RS then parses only what it reads, as before."""
    found = parsed.get(s.usubjid)
    if found is None:
        try:
            found = parse_history(s.history)
        except CletrialError:
            return None  # ADaM parses it again and says why
        parsed[s.usubjid] = found
    return found if found.document.patient_id == s.ref.subjid else None


def _subject_rows(
    s: SubjectSource,
    rules: EndpointRules,
    numbers: dict[dt.date, tuple[float, str]],
    parsed: dict[str, PatientHistory] | None = None,
) -> list[dict[str, Any]]:
    history = s.history
    if not history.get("assessments"):
        return []
    shared = None if parsed is None else _shared_parse(s, parsed)
    if shared is not None:  # the responses read only baseline, assessments and doses
        course = course_from_history(shared, rules)
    else:  # only what the response is made of: the other arrays (labs, events) are not read
        wanted = {k: v for k, v in history.items() if k in _RESPONSE_KEYS}
        course = course_from_history({"patient_id": s.ref.subjid, **wanted}, rules)
    rows = []
    for r in compute_visit_responses(course, rules):
        date = dt.date.fromisoformat(str(history["assessments"][r.seq - 1]["date"]))
        visitnum, visit = numbers.get(date, (float("nan"), None))
        rows.append({"STUDYID": s.ref.studyid, "DOMAIN": "RS", "USUBJID": s.usubjid,
                     "RSTESTCD": "CLASIRSP", "RSTEST": "CLASI Response", "RSCAT": "CLASI",
                     "RSORRES": r.response, "RSSTRESC": r.response, "RSEVAL": "INVESTIGATOR",
                     "VISITNUM": visitnum, "VISIT": visit, "RSDTC": date.isoformat(),
                     "RSDY": study_day(date, s.ref.rfstdtc),
                     "_src": ("assessments", r.seq - 1)})  # fmt: skip
    return rows


def build_rs(
    subjects: list[SubjectSource],
    protocol: ProtocolFile,
    visit_numbers: dict[str, dict[dt.date, tuple[float, str]]],
    provenance: list[Provenance],
    parsed: dict[str, PatientHistory] | None = None,
) -> Dataset:
    """RS of every subject (the protocol's response thresholds); ``visit_numbers`` as
    :func:`~cletrial.standards.sdtm.visits.build_sv` returns them; each record's provenance is
    appended to ``provenance``. With ``parsed``, each whole history RS parses is kept there by
    USUBJID (ADaM reads the same; a history is then parsed once)."""
    rules = EndpointRules.from_protocol_file(protocol)
    records: list[dict[str, Any]] = []
    for s in subjects:
        rows = _subject_rows(s, rules, visit_numbers.get(s.usubjid, {}), parsed)
        collect(assign_seq(rows, "RS", date="RSDTC", topic="RSTESTCD"), "RS", records, provenance)
    return to_dataset(RS_SPEC, records)
