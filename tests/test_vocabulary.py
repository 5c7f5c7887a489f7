"""The controlled vocabulary (:mod:`cletrial.vocabulary`) is the one source of every coded value:
each form, history and store type equals its codelist, no second declaration of a codelist's
values is left in the source, and the instrument limits are the instruments' constants."""

from __future__ import annotations

import ast
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pydantic
import pytest

from cletrial import vocabulary as v
from cletrial.analysis import reference
from cletrial.endpoints import rules
from cletrial.instruments import analytes, clasi, ctcae
from cletrial.instruments.clasi import CLASI_ACTIVITY_MAX, CLASI_DAMAGE_MAX
from cletrial.instruments.sledai import SLEDAI_MAX
from cletrial.protocol import definition_model as dm
from cletrial.protocol import eligibility, history, history_model, screening
from cletrial.store import fields, vocab
from cletrial.vocabulary.table import markdown_table
from cletrial.vocabulary.types import HISTORY_EVENT_TYPES
from cletrial.web import demo, forms, schemas, schemas_clinical, schemas_enrolment

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cletrial"
#: Codelists whose submission values repeat by design: several patient events end in the same
#: disposition term (thrombosis, severe rash and a life-threatening event are ADVERSE EVENT).
#: Codelists mapping several stored values to one CDISC term on purpose (events to their
#: disposition; a unit's spellings to its CDISC spelling).
MANY_TO_ONE = {"DSEVENT", "UNIT"}


def _values(annotation: Any) -> tuple[Any, ...]:
    """The values of a ``Literal`` annotation, without ``None`` of an optional one."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation)
    assert typing.get_origin(annotation) is typing.Literal, annotation
    return typing.get_args(annotation)


def _struct(cls: type[msgspec.Struct], name: str) -> tuple[Any, ...]:
    return _values(typing.get_type_hints(cls)[name])


def _model(cls: type[pydantic.BaseModel], name: str) -> tuple[Any, ...]:
    return _values(cls.model_fields[name].annotation)


HM, WS, WE = history_model, schemas_clinical, schemas_enrolment
#: (structure, field, codelist) of the history and protocol types.
HISTORY_TYPES: list[tuple[type[msgspec.Struct], str, v.Codelist]] = [
    (HM.AdverseEventDoc, "causality", v.AE_CAUSALITY),
    (HM.PregnancyTestDoc, "result", v.PREGNANCY_RESULT),
    (HM.ImmunologyDoc, "test", v.IMMUNOLOGY_TEST),
    (HM.ImmunologyDoc, "result", v.IMMUNOLOGY_RESULT),
    (HM.NerveConductionDoc, "result", v.NERVE_CONDUCTION_RESULT),
    (HM.LabDoc, "test", v.LAB_TEST),
    (HM.HistoryDoc, "sex", v.SEX),
    (HM.EligibilityDoc, "verdict", v.SCREENING_VERDICT),
    (HM.EndOfTreatmentDoc, "reason", v.DISPOSITION_REASON),
    (HM.EndOfStudyDoc, "reason", v.DISPOSITION_REASON),
    (screening.Screening, "sex", v.SEX),
    (eligibility.EligibilityResult, "verdict", v.SCREENING_VERDICT),
    (eligibility.CriterionResult, "kind", v.CRITERION_CATEGORY),
    (dm.BloodCounts, "tests", v.LAB_TEST),
]
#: (model, field, codelist) of the web API's types.
WEB_TYPES: list[tuple[type[pydantic.BaseModel], str, v.Codelist]] = [
    (WS.AdverseEventCreate, "causality", v.AE_CAUSALITY),
    (WS.AdverseEventCreate, "serious_criterion", v.AE_SERIOUS_CRITERION),
    (WS.AdverseEventCreate, "outcome", v.AE_OUTCOME),
    (WS.AdverseEventUpdate, "causality", v.AE_CAUSALITY),
    (WS.LabCreate, "test", v.LAB_TEST),
    (WS.VisitCreate, "kind", v.VISIT_KIND),
    (WS.PatientCreate, "sex", v.SEX),
    (WS.PatientUpdate, "sex", v.SEX),
    (WS.EventCreate, "event_type", v.DISPOSITION_EVENT),
    (WE.PregnancyTestCreate, "result", v.PREGNANCY_RESULT),
    (WE.PregnancyTestCreate, "method", v.PREGNANCY_METHOD),
    (WE.DispositionCreate, "kind", v.DISPOSITION_KIND),
    (WE.DispositionCreate, "reason", v.DISPOSITION_REASON),
    (WE.ImmunologyCreate, "test", v.IMMUNOLOGY_TEST),
    (WE.ImmunologyCreate, "result", v.IMMUNOLOGY_RESULT),
    (WE.NerveConductionCreate, "result", v.NERVE_CONDUCTION_RESULT),
]


def _id(case: tuple[type, str, v.Codelist]) -> str:
    return f"{case[0].__name__}.{case[1]}"


STORE_FIELDS = {
    ("patients", "sex"): v.SEX,
    ("visits", "kind"): v.VISIT_KIND,
    ("labs", "test"): v.LAB_TEST,
    ("adverse_events", "causality"): v.AE_CAUSALITY,
    ("adverse_events", "serious_criterion"): v.AE_SERIOUS_CRITERION,
    ("adverse_events", "outcome"): v.AE_OUTCOME,
    ("pregnancy_tests", "result"): v.PREGNANCY_RESULT,
    ("pregnancy_tests", "method"): v.PREGNANCY_METHOD,
    ("patient_events", "event_type"): v.DISPOSITION_EVENT,
    ("screenings", "verdict"): v.SCREENING_VERDICT,
    ("enrolment_overrides", "verdict"): v.SCREENING_VERDICT,
    ("dispositions", "kind"): v.DISPOSITION_KIND,
    ("dispositions", "reason"): v.DISPOSITION_REASON,
    ("immunology_results", "test"): v.IMMUNOLOGY_TEST,
    ("immunology_results", "result"): v.IMMUNOLOGY_RESULT,
    ("nerve_conduction_studies", "result"): v.NERVE_CONDUCTION_RESULT,
}


@pytest.mark.parametrize("case", HISTORY_TYPES, ids=_id)
def test_every_history_and_protocol_type_is_its_codelist(
    case: tuple[type[msgspec.Struct], str, v.Codelist],
) -> None:
    cls, name, codelist = case
    assert _struct(cls, name) == codelist.values


def test_history_events_are_the_patient_events_but_completed() -> None:
    assert _struct(history_model.EventDoc, "type") == HISTORY_EVENT_TYPES
    assert (*HISTORY_EVENT_TYPES, "completed") == v.DISPOSITION_EVENT.values
    assert dm.EVENT_TYPES == rules.EVENT_TYPES == HISTORY_EVENT_TYPES
    assert dm.LAB_TESTS == forms.LAB_FORM_TESTS == v.LAB_TEST.values


@pytest.mark.parametrize("case", WEB_TYPES, ids=_id)
def test_every_web_type_is_its_codelist(
    case: tuple[type[pydantic.BaseModel], str, v.Codelist],
) -> None:
    cls, name, codelist = case
    assert _model(cls, name) == codelist.values


def test_the_instruments_value_sets_are_the_instruments_own() -> None:
    severity = typing.get_args(clasi.Severity)
    assert _model(schemas.ClasiScorePublic, "activity_severity") == severity
    versions = typing.get_args(ctcae.CtcaeVersion)
    assert _model(schemas.LabGradeRequest, "ctcae_version") == versions
    assert _struct(dm.Safety, "ctcae_version") == versions


def test_the_graded_lab_tests_of_the_web_are_those_ctcae_grades() -> None:
    graded = _model(schemas.LabGradeRequest, "test")
    assert graded == tuple(dm.CTCAE_TERM_OF_TEST) == tuple(vocab.LAB_CTCAE_TERMS)
    assert graded == tuple(t for t, a in analytes.ANALYTES.items() if a.ctcae_term)
    assert {t: analytes.ANALYTES[t].ctcae_term for t in graded} == dm.CTCAE_TERM_OF_TEST


@pytest.mark.parametrize("where", sorted(STORE_FIELDS), ids="{0[0]}.{0[1]}".format)
def test_every_store_field_is_its_codelist(where: tuple[str, str]) -> None:
    table, name = where
    assert fields.field_specs(table)[name].choices == STORE_FIELDS[where].values


def test_the_cdisc_maps_are_the_codelists_submission_values() -> None:
    assert {
        t.value: v.DISPOSITION_REASON.submission(t.value) for t in v.DISPOSITION_REASON.terms
    } == history_model.DISPOSITION_TERMS
    assert vocab.DISPOSITION_CDISC == history_model.DISPOSITION_TERMS
    assert {t.value: t.submission for t in v.AE_OUTCOME.terms} == vocab.AE_OUTCOME_CDISC
    assert vocab.LAB_TESTS == tuple(vocab.LAB_UNITS) == v.LAB_TEST.values
    assert tuple(history_model.LAB_UNITS) == v.LAB_TEST.values
    assert rules.CAUSALITY_TERMS == vocab.AE_CAUSALITY == v.AE_CAUSALITY.values
    assert rules.DEFAULT_RULES.related_causalities == ("possible", "probable", "definite")
    assert tuple(c.lower() for c in reference._CAUSALITY) == v.AE_CAUSALITY.values
    # a demo disposition's reason is the NCOMPLT term of the patient event
    for event, reason in demo._REASON_OF_EVENT.items():
        assert v.DISPOSITION_EVENT.submission(event) == v.DISPOSITION_REASON.submission(reason)
    assert (*demo._REASON_OF_EVENT, "completed") == v.DISPOSITION_EVENT.values


def test_the_lab_catalogue_holds_the_lab_and_immunology_tests() -> None:
    assert v.LAB_TEST.values + v.IMMUNOLOGY_TEST.values == analytes.LAB_TESTS
    assert v.IMMUNOLOGY_RESULT.values == analytes.LAB_RESULTS
    for test in v.IMMUNOLOGY_TEST.values:
        assert analytes.ANALYTES[test].results == v.IMMUNOLOGY_RESULT.values, test


def test_history_errors_list_the_codelists_values() -> None:
    event = {"term": "Rash", "start": "2009-03-01", "grade": 1, "causality": "maybe"}
    with pytest.raises(history.HistoryError) as caught:
        history.parse_history({"adverse_events": [event]})
    allowed = ", ".join((*v.AE_CAUSALITY.values, "null"))
    assert str(caught.value).endswith(f"must be one of {allowed}")


@pytest.mark.parametrize(
    ("part", "record", "codelist"),
    [
        ("immunology", {"test": "x", "result": "positive"}, v.IMMUNOLOGY_TEST),
        ("immunology", {"test": "ana", "result": "x"}, v.IMMUNOLOGY_RESULT),
        ("nerve_conduction", {"result": "x"}, v.NERVE_CONDUCTION_RESULT),
        ("pregnancy_tests", {"result": "x"}, v.PREGNANCY_RESULT),
    ],
    ids=["immunology.test", "immunology.result", "nerve_conduction.result", "pregnancy.result"],
)
def test_history_enum_errors_list_the_fields_own_codelist(
    part: str, record: dict[str, str], codelist: v.Codelist
) -> None:
    """Each coded field of a history names its own codelist's values (immunology and nerve
    conduction results were phrased with the pregnancy results)."""
    document = {part: [{"date": "2009-03-01", **record}]}
    with pytest.raises(history.HistoryError) as caught:
        history.parse_history(document)
    name = next(k for k, x in record.items() if x == "x")
    expected = f'{part}[0].{name} = "x": must be one of {", ".join(codelist.values)}'
    assert str(caught.value) == expected


@pytest.mark.parametrize("codelist", sorted(v.CODELISTS), ids=str)
def test_submission_values_are_unique_and_fit_sdtm(codelist: str) -> None:
    terms = v.CODELISTS[codelist].terms
    submissions = [t.submission for t in terms]
    if codelist not in MANY_TO_ONE:
        assert len(set(submissions)) == len(submissions), submissions
    assert all(0 < len(s) <= 200 and s == s.strip() for s in submissions), submissions
    assert len({t.decode for t in terms}) == len(terms)


def test_every_codelist_is_listed_once_by_its_id() -> None:
    declared = [c for c in vars(v).values() if isinstance(c, v.Codelist)]
    assert sorted(c.id for c in declared) == sorted(v.CODELISTS)
    assert all(v.CODELISTS[c.id] is c for c in declared)


# ----------------------------------------------------------------------------- the source


def _src() -> Iterator[tuple[Path, str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        yield path, text, ast.parse(text, filename=str(path))


def _string_collections(tree: ast.Module) -> Iterator[tuple[int, set[str]]]:
    """Each tuple, list, set and dict literal with its string members (lower-cased)."""
    for node in ast.walk(tree):
        items: list[ast.expr | None] = []
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = list(node.elts)
        elif isinstance(node, ast.Dict):
            items = list(node.keys)
        strings = {
            i.value.lower()
            for i in items
            if isinstance(i, ast.Constant) and isinstance(i.value, str)
        }
        if len(strings) >= 2:
            yield node.lineno, strings


#: Collections keyed by a codelist's values that hold something else (not a second list).
KEYED_BY_VALUES = {
    ("protocol/history_disposition.py", "DSSCAT"): "the history's parts, named like the kinds",
    ("store/vocab.py", "LBTESTCD"): "LAB_UNITS: the units of each test (pinned above)",
    ("store/vocab.py", "LBTEST"): "LAB_UNITS: the units of each test (pinned above)",
    ("web/routes/patients_pages.py", "VERDICT"): "the dashboard's counters, one per verdict",
    ("web/templating.py", "LBTESTCD"): "LABELS: the pages' wording of each value",
    ("web/templating.py", "LBTEST"): "LABELS: the pages' wording of each value",
    ("web/templating.py", "IMMTESTCD"): "LABELS: the pages' wording of each value",
    ("web/forms_screening.py", "CLAIGA"): "the CLASI erythema choices 0-3, not CLA-IGA grades",
}


def test_no_codelist_is_declared_a_second_time_in_the_source() -> None:
    """No literal collection outside the vocabulary holds all the values of a codelist (or all
    but one: a copy missing a term is still a copy)."""
    vocabulary_dir = SRC / "vocabulary"
    found = []
    for path, _text, tree in _src():
        name = str(path.relative_to(SRC))
        if path.parent == vocabulary_dir:
            continue
        for line, strings in _string_collections(tree):
            for codelist in v.CODELISTS.values():
                values = {x.lower() for x in codelist.values}
                repeated = len(values & strings) >= max(2, len(values) - 1)
                if repeated and (name, codelist.id) not in KEYED_BY_VALUES:
                    found.append(f"{name}:{line} repeats {codelist.id}")
    assert found == []


def test_the_causality_terms_appear_in_the_vocabulary_only() -> None:
    terms = {t.lower() for t in v.AE_CAUSALITY.values}
    found = [
        f"{path.relative_to(SRC)}:{line}"
        for path, _text, tree in _src()
        if path.name != "__init__.py" or path.parent.name != "vocabulary"
        for line, strings in _string_collections(tree)
        if len(strings & terms) >= 2
    ]
    assert found == []


#: Integers equal to an instrument maximum that are not one: study days and days of follow-up.
NOT_LIMITS = {
    ("synthetic/calibration.py", "relapse_delay_days: tuple[int, int] = (14, 56)"),
    ("synthetic/cohort.py", "days += [63, 70]"),
    ("synthetic/cohort.py", "low = self.traits.neutropenia and day == 56"),
    ("synthetic/cohort.py", '("Neutropenia", 56, "possible"),'),
    ("synthetic/fast.py", "start = np.array([5, 5, 5, 5, 50, 56])"),
    ("endpoints/trial.py", "thresholds: tuple[int, ...] = (50, 70)"),  # CLASI-50/70: percent
    ("web/demo.py", "FINISHED_AFTER_DAYS: Final = 56"),
    ("web/demo.py",
     "to_sign += [v for d, v in visits.items() if (day - d).days > 56 and number <= at_a]"),
}  # fmt: skip


def test_instrument_limits_are_not_written_as_numbers() -> None:
    limits = {CLASI_ACTIVITY_MAX, CLASI_DAMAGE_MAX, SLEDAI_MAX}
    found = []
    for path, text, tree in _src():
        name = str(path.relative_to(SRC))
        lines = text.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and type(node.value) is int and node.value in limits:
                line = lines[node.lineno - 1].strip()
                if name != "instruments/clasi.py" and (name, line) not in NOT_LIMITS:
                    found.append(f"{name}:{node.lineno}: {line}")
    assert found == []


def _meta_le(cls: type[msgspec.Struct], name: str) -> Any:
    annotation = typing.get_type_hints(cls, include_extras=True)[name]
    return next(m.le for m in typing.get_args(annotation)[1:] if isinstance(m, msgspec.Meta))


def _pydantic_le(cls: type[pydantic.BaseModel], name: str) -> Any:
    return next(m.le for m in cls.model_fields[name].metadata if hasattr(m, "le"))


def test_the_limits_are_the_instruments_constants() -> None:
    assert (CLASI_ACTIVITY_MAX, CLASI_DAMAGE_MAX, SLEDAI_MAX) == (70, 56, 105)
    assert _pydantic_le(schemas.ClasiScorePublic, "activity") == CLASI_ACTIVITY_MAX
    assert _pydantic_le(schemas.ClasiScorePublic, "damage") == CLASI_DAMAGE_MAX
    assert _pydantic_le(schemas.SledaiScorePublic, "score") == SLEDAI_MAX
    assert _meta_le(dm.Response, "relapse_min") == CLASI_ACTIVITY_MAX
    assert _meta_le(dm.ClasiDamageBelowBaselineCheck, "margin") == CLASI_DAMAGE_MAX
    specs = fields.field_specs("clasi_assessments")
    assert specs["activity"].bounds == (0, CLASI_ACTIVITY_MAX)
    assert specs["damage"].bounds == (0, CLASI_DAMAGE_MAX)
    assert fields.field_specs("sledai_assessments")["score"].bounds == (0, SLEDAI_MAX)


def test_the_docs_table_is_the_vocabulary() -> None:
    text = (ROOT / "docs" / "vocabulary.md").read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table == markdown_table()


def test_the_unit_codelist_holds_exactly_the_units_of_the_lab_analytes_and_mg() -> None:
    # The vocabulary cannot import the analytes (they import it), so the list is pinned here:
    # a unit added to lab_analytes.yaml without its UNIT term fails this test.
    from cletrial.instruments.analytes import ANALYTES
    from cletrial.vocabulary.submission import UNIT

    units = {"mg"}  # the dose unit of EX
    for analyte in ANALYTES.values():
        units |= {u for u in (*analyte.units, analyte.canonical_unit) if u is not None}
    assert set(UNIT.values) == units
    assert len(UNIT.values) == len(units)
