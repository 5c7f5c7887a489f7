"""cletrial's one controlled vocabulary: every coded value a form, a history, the database or an
export may hold, with its CDISC submission value.

Each codelist maps the stored value (snake_case, as in ``docs/formats.md``) to the CDISC term
SDTM and ADaM carry. NCI Thesaurus codes are given for CDISC codelists and terms where CDISC
defines them and are ``None`` otherwise (sponsor-defined lists such as ``AEREL`` terms and the
regimen frequencies). The vocabulary is versioned: :data:`VOCABULARY_VERSION` changes whenever a
term is added, removed or remapped, and Define-XML and the submission manifest record it.

>>> CODELISTS["NCOMPLT"].submission("lack_of_efficacy")
'LACK OF EFFICACY'
>>> AE_CAUSALITY.values
('unrelated', 'unlikely', 'possible', 'probable', 'definite')
>>> AE_CAUSALITY.submission("probable")
'PROBABLY RELATED'
>>> LAB_TEST.submission("neutrophils"), LAB_TEST.decode("neutrophils")
('NEUT', 'Neutrophils')
"""

from __future__ import annotations

from typing import Final

from cletrial.vocabulary.model import Codelist, Term
from cletrial.vocabulary.submission import (
    AGE_UNIT,
    DISPOSITION_CATEGORY,
    DOSE_FORM,
    REFERENCE_RANGE_INDICATOR,
    SUBMISSION_CODELISTS,
    TOXICITY_GRADE,
    UNIT,
)
from cletrial.vocabulary.trial import (
    CONTROL_TYPE,
    CRITERION_CATEGORY,
    EPOCH,
    INTERVENTION_MODEL,
    INTERVENTION_TYPE,
    NULL_FLAVOR,
    SEX_POPULATION,
    STUDY_TYPE,
    TRIAL_BLINDING,
    TRIAL_CODELISTS,
    TRIAL_INDICATION_TYPE,
    TRIAL_PHASE,
    TRIAL_TYPE,
    TS_PARAMETER,
)

__all__ = [
    "AE_CAUSALITY",
    "AE_OUTCOME",
    "AE_SERIOUS_CRITERION",
    "AGE_UNIT",
    "CLA_IGA_GRADE",
    "CODELISTS",
    "CONTROL_TYPE",
    "CRITERION_CATEGORY",
    "DISPOSITION_CATEGORY",
    "DISPOSITION_EVENT",
    "DISPOSITION_KIND",
    "DISPOSITION_REASON",
    "DOSE_FORM",
    "DOSE_FREQUENCY",
    "EPOCH",
    "IMMUNOLOGY_RESULT",
    "IMMUNOLOGY_TEST",
    "INTERVENTION_MODEL",
    "INTERVENTION_TYPE",
    "LAB_TEST",
    "LAB_TEST_NAME",
    "NERVE_CONDUCTION_RESULT",
    "NO_YES",
    "NULL_FLAVOR",
    "PREGNANCY_METHOD",
    "PREGNANCY_RESULT",
    "REFERENCE_RANGE_INDICATOR",
    "ROUTE",
    "SCREENING_VERDICT",
    "SEX",
    "SEX_POPULATION",
    "SKINDEX_DOMAIN",
    "SKINDEX_RESPONSE",
    "STUDY_TYPE",
    "TOXICITY_GRADE",
    "TRIAL_BLINDING",
    "TRIAL_INDICATION_TYPE",
    "TRIAL_PHASE",
    "TRIAL_TYPE",
    "TS_PARAMETER",
    "UNIT",
    "VISIT_KIND",
    "VOCABULARY_VERSION",
    "Codelist",
    "Term",
]

#: Version of this vocabulary (date of the last change of a term).
VOCABULARY_VERSION: Final = "2026-12-07.1"

SEX: Final = Codelist(
    "SEX",
    "Sex",
    (Term("F", "F", "Female", "C16576"), Term("M", "M", "Male", "C20197")),
    nci_code="C66731",
)

NO_YES: Final = Codelist(
    "NY",
    "No Yes Response",
    (Term("N", "N", "No", "C49487"), Term("Y", "Y", "Yes", "C49488")),
    nci_code="C66742",
)

#: Causality of an adverse event with respect to the study drug (AEREL: sponsor-defined terms).
AE_CAUSALITY: Final = Codelist(
    "AEREL",
    "Causality",
    (
        Term("unrelated", "NOT RELATED", "Not related"),
        Term("unlikely", "UNLIKELY RELATED", "Unlikely related"),
        Term("possible", "POSSIBLY RELATED", "Possibly related"),
        Term("probable", "PROBABLY RELATED", "Probably related"),
        Term("definite", "RELATED", "Definitely related"),
    ),
)

#: Outcome of an adverse event (AEOUT).
AE_OUTCOME: Final = Codelist(
    "OUT",
    "Outcome of Event",
    (
        Term("recovered", "RECOVERED/RESOLVED", "Recovered/resolved"),
        Term(
            "recovered_with_sequelae",
            "RECOVERED/RESOLVED WITH SEQUELAE",
            "Recovered/resolved with sequelae",
        ),
        Term("recovering", "RECOVERING/RESOLVING", "Recovering/resolving"),
        Term("not_recovered", "NOT RECOVERED/NOT RESOLVED", "Not recovered/not resolved"),
        Term("fatal", "FATAL", "Fatal"),
        Term("unknown", "UNKNOWN", "Unknown"),
    ),
    nci_code="C66768",
)

#: Why an adverse event is serious (ICH E2A); the submission value is the SDTM AE flag set to Y.
AE_SERIOUS_CRITERION: Final = Codelist(
    "AESCRIT",
    "Seriousness criterion",
    (
        Term("death", "AESDTH", "Results in death"),
        Term("life_threatening", "AESLIFE", "Is life threatening"),
        Term("hospitalisation", "AESHOSP", "Requires or prolongs hospitalization"),
        Term("persistent_disability", "AESDISAB", "Persistent or significant disability"),
        Term("congenital_anomaly", "AESCONG", "Congenital anomaly or birth defect"),
        Term("other_medically_important", "AESMIE", "Other medically important event"),
    ),
)

#: Reason a patient ended treatment or the study (DSDECOD, NCOMPLT).
DISPOSITION_REASON: Final = Codelist(
    "NCOMPLT",
    "Completion/Reason for Non-Completion",
    (
        Term("completed", "COMPLETED", "Completed"),
        Term("adverse_event", "ADVERSE EVENT", "Adverse event"),
        Term("lack_of_efficacy", "LACK OF EFFICACY", "Lack of efficacy"),
        Term("withdrawal_by_subject", "WITHDRAWAL BY SUBJECT", "Withdrawal by subject"),
        Term("lost_to_follow_up", "LOST TO FOLLOW-UP", "Lost to follow-up"),
        Term("pregnancy", "PREGNANCY", "Pregnancy"),
        Term("physician_decision", "PHYSICIAN DECISION", "Physician decision"),
        Term("death", "DEATH", "Death"),
    ),
    nci_code="C66727",
)

#: Dose frequency (EXDOSFRQ) of a regimen, by its ``administrations_per_week`` written with
#: ``format(value, "g")`` (``"7"``, ``"3.5"``, ...).
#: NCI codes: the codelist (C71113) and ``QD`` (C25473) as in pharmaverse/sdtm.oak
#: ``inst/raw_data/sdtm_ct.csv``; the other terms' codes were not checked and are ``None``.
DOSE_FREQUENCY: Final = Codelist(
    "FREQ",
    "Frequency",
    (
        Term("7", "QD", "Daily", "C25473"),
        Term("3.5", "QOD", "Every other day"),
        Term("3", "TIW", "Three times per week"),
        Term("2", "BIW", "Twice per week"),
        Term("1", "QW", "Once a week"),
    ),
    nci_code="C71113",
    extensible=True,
)

#: Route of administration (EXROUTE, TS ``ROUTE``). NCI codes C66729 and ``ORAL`` C38288 as in
#: pharmaverse/sdtm.oak ``inst/raw_data/sdtm_ct.csv`` and SDTMIG 3.4 TS example 4.
ROUTE: Final = Codelist("ROUTE", "Route of Administration",
                        (Term("oral", "ORAL", "Oral", "C38288"),), nci_code="C66729",
                        extensible=True)  # fmt: skip

#: Patient events of a history (``events[].type``) and the disposition term each implies.
DISPOSITION_EVENT: Final = Codelist(
    "DSEVENT",
    "Patient event",
    (
        Term("consent_withdrawn", "WITHDRAWAL BY SUBJECT", "Consent withdrawn"),
        Term("pregnancy", "PREGNANCY", "Pregnancy"),
        Term("thrombosis", "ADVERSE EVENT", "Thrombosis"),
        Term("life_threatening", "ADVERSE EVENT", "Life-threatening adverse event"),
        Term("physician_decision", "PHYSICIAN DECISION", "Physician decision"),
        Term("severe_rash", "ADVERSE EVENT", "Severe rash"),
        Term("death", "DEATH", "Death"),
        Term("lost_to_follow_up", "LOST TO FOLLOW-UP", "Lost to follow-up"),
        Term("completed", "COMPLETED", "Completed"),
    ),
)

#: Laboratory tests (LBTESTCD) and their names (LBTEST); the standard unit (LBSTRESU) of each is
#: its canonical unit in ``cletrial/data/lab_analytes.yaml`` (:mod:`cletrial.instruments.analytes`).
LAB_TEST: Final = Codelist(
    "LBTESTCD",
    "Laboratory Test Code",
    (
        Term("neutrophils", "NEUT", "Neutrophils"),
        Term("wbc", "WBC", "Leukocytes"),
        Term("platelets", "PLAT", "Platelets"),
        Term("hemoglobin", "HGB", "Hemoglobin"),
        Term("anti_dsdna", "DSDNAAB", "Anti-Double Stranded DNA Antibody"),
        Term("c3", "C3", "Complement C3"),
        Term("c4", "C4", "Complement C4"),
    ),
    nci_code="C65047",
    extensible=True,
)
LAB_TEST_NAME: Final = Codelist(
    "LBTEST",
    "Laboratory Test Name",
    tuple(Term(t.value, t.decode, t.decode) for t in LAB_TEST.terms),
    nci_code="C67154",
    extensible=True,
)
PREGNANCY_RESULT: Final = Codelist(
    "PREGRES",
    "Pregnancy test result",
    (Term("negative", "NEGATIVE", "Negative"), Term("positive", "POSITIVE", "Positive")),
)

IMMUNOLOGY_TEST: Final = Codelist(
    "IMMTESTCD",
    "Immunology test code",
    (
        Term("ana", "ANA", "Antinuclear Antibodies"),
        Term("anti_ena", "ENAAB", "Extractable Nuclear Antigen Antibodies"),
        Term("antiphospholipid", "APLAB", "Antiphospholipid Antibodies"),
    ),
)
IMMUNOLOGY_RESULT: Final = Codelist(
    "IMMRES",
    "Immunology result",
    (
        Term("negative", "NEGATIVE", "Negative"),
        Term("positive", "POSITIVE", "Positive"),
        Term("indeterminate", "INDETERMINATE", "Indeterminate"),
    ),
)
NERVE_CONDUCTION_RESULT: Final = Codelist(
    "NCSRES",
    "Nerve conduction result",
    (Term("normal", "NORMAL", "Normal"), Term("abnormal", "ABNORMAL", "Abnormal")),
)
SCREENING_VERDICT: Final = Codelist(
    "VERDICT",
    "Screening verdict",
    (
        Term("eligible", "ELIGIBLE", "Eligible"),
        Term("ineligible", "INELIGIBLE", "Not eligible"),
        Term("undetermined", "UNDETERMINED", "Undetermined (data missing)"),
    ),
)

#: Which disposition a record is (DSSCAT, sponsor-defined): end of treatment or end of study.
DISPOSITION_KIND: Final = Codelist(
    "DSSCAT",
    "Disposition subcategory",
    (
        Term("end_of_treatment", "END OF TREATMENT", "End of treatment"),
        Term("end_of_study", "END OF STUDY", "End of study"),
    ),
)
#: How a pregnancy test was done: the specimen (LBSPEC terms of the CDISC SPECTYPE codelist).
PREGNANCY_METHOD: Final = Codelist(
    "PREGSPEC",
    "Pregnancy test specimen",
    (Term("serum", "SERUM", "Serum"), Term("urine", "URINE", "Urine")),
)
#: Kind of a visit (sponsor-defined).
VISIT_KIND: Final = Codelist(
    "VISITKND",
    "Visit kind",
    (
        Term("baseline", "BASELINE", "Baseline"),
        Term("scheduled", "SCHEDULED", "Scheduled"),
        Term("unscheduled", "UNSCHEDULED", "Unscheduled"),
    ),
)

#: CLA-IGA (Cutaneous Lupus Activity Investigator's Global Assessment) grade, stored as the
#: digit; the short labels are a stated default (:mod:`cletrial.instruments.cla_iga`).
CLA_IGA_GRADE: Final = Codelist(
    "CLAIGA",
    "CLA-IGA grade",
    (
        Term("0", "0", "Clear"),
        Term("1", "1", "Almost clear"),
        Term("2", "2", "Mild"),
        Term("3", "3", "Moderate"),
        Term("4", "4", "Severe"),
    ),
)
#: Response to one Skindex-29+3 item (how often, over the past 4 weeks), stored as the digit.
SKINDEX_RESPONSE: Final = Codelist(
    "SKXRESP",
    "Skindex response",
    (
        Term("1", "NEVER", "Never"),
        Term("2", "RARELY", "Rarely"),
        Term("3", "SOMETIMES", "Sometimes"),
        Term("4", "OFTEN", "Often"),
        Term("5", "ALL THE TIME", "All the time"),
    ),
)
#: Skindex-29+3 domains; the submission value is the ADaM ADQS parameter code of its score.
SKINDEX_DOMAIN: Final = Codelist(
    "SKXDOM",
    "Skindex-29+3 domain",
    (
        Term("symptoms", "SKX29SYM", "Symptoms"),
        Term("emotions", "SKX29EMO", "Emotions"),
        Term("functioning", "SKX29FUN", "Functioning"),
        Term("lupus_specific", "SKX3LUP", "Lupus-specific (photosensitivity and hair loss)"),
    ),
)

#: Every codelist by id.
CODELISTS: Final[dict[str, Codelist]] = {
    c.id: c
    for c in (
        SEX,
        NO_YES,
        AE_CAUSALITY,
        AE_OUTCOME,
        AE_SERIOUS_CRITERION,
        DISPOSITION_REASON,
        DISPOSITION_EVENT,
        DOSE_FREQUENCY,
        ROUTE,
        LAB_TEST,
        LAB_TEST_NAME,
        PREGNANCY_RESULT,
        IMMUNOLOGY_TEST,
        IMMUNOLOGY_RESULT,
        NERVE_CONDUCTION_RESULT,
        SCREENING_VERDICT,
        DISPOSITION_KIND,
        PREGNANCY_METHOD,
        VISIT_KIND,
        CLA_IGA_GRADE,
        SKINDEX_RESPONSE,
        SKINDEX_DOMAIN,
    )
}
CODELISTS.update({c.id: c for c in (*SUBMISSION_CODELISTS, *TRIAL_CODELISTS)})
