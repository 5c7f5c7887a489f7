"""Codelists of the SDTM trial design datasets: the trial summary parameters (TS) and the terms
their values take, the epochs of TA and the criterion categories of TI.

A protocol definition's ``trial`` section (:mod:`cletrial.protocol.definition_trial`) stores the
snake_case values; TS carries the CDISC submission values. :data:`TS_PARAMETER` maps each
parameter code (``TSPARMCD``) to its name (``TSPARM``, the decode) and
:data:`TS_VALUE_CODELIST` names the codelist of the parameters whose value is coded (a
parameter not listed there takes free text, a number or an ISO 8601 value).

NCI Thesaurus codes are given for the codelists; for terms only where the code was checked
(``PHASE II TRIAL`` C15601, and the terms used by SDTMIG 3.4's TS examples 1 and 4, section
7.6.1: ``BOTH`` C49636, ``OPEN LABEL`` C49659, ``DOUBLE BLIND`` C15228, ``NONE`` C41132,
``PLACEBO`` C49648, ``TREATMENT`` C49656, ``PREVENTION`` C49657, ``EFFICACY`` C49666,
``SAFETY`` C49667, ``SINGLE GROUP`` C82640, ``PARALLEL`` C82639, ``INTERVENTIONAL`` C98388,
``DRUG`` C1909); the others are ``None`` rather than guessed.

>>> TRIAL_PHASE.submission("phase_2")
'PHASE II TRIAL'
>>> TS_PARAMETER.decode("AGEMIN"), TS_VALUE_CODELIST["TBLIND"]
('Planned Minimum Age of Subjects', 'TBLIND')
"""

from __future__ import annotations

from typing import Final

from cletrial.vocabulary.model import Codelist, Term

__all__ = [
    "CONTROL_TYPE",
    "CRITERION_CATEGORY",
    "EPOCH",
    "INTERVENTION_MODEL",
    "INTERVENTION_TYPE",
    "NULL_FLAVOR",
    "SEX_POPULATION",
    "STUDY_TYPE",
    "TRIAL_BLINDING",
    "TRIAL_CODELISTS",
    "TRIAL_INDICATION_TYPE",
    "TRIAL_PHASE",
    "TRIAL_TYPE",
    "TS_PARAMETER",
    "TS_VALUE_CODELIST",
]


def _same(*pairs: tuple[str, str]) -> tuple[Term, ...]:
    """Terms whose stored value is the submission value (parameter codes, null flavors)."""
    return tuple(Term(code, code, decode) for code, decode in pairs)


#: Trial summary parameters (TSPARMCD, decode TSPARM) that cletrial writes.
TS_PARAMETER: Final = Codelist(
    "TSPARMCD",
    "Trial Summary Parameter Test Code",
    _same(
        ("ACTSUB", "Actual Number of Subjects"),
        ("ADAPT", "Adaptive Design"),
        ("ADDON", "Added on to Existing Treatments"),
        ("AGEMAX", "Planned Maximum Age of Subjects"),
        ("AGEMIN", "Planned Minimum Age of Subjects"),
        ("COMPTRT", "Comparative Treatment Name"),
        ("CURTRT", "Current Therapy or Treatment"),
        ("DCUTDESC", "Data Cutoff Description"),
        ("DCUTDTC", "Data Cutoff Date"),
        ("DOSE", "Dose per Administration"),
        ("DOSFRQ", "Dosing Frequency"),
        ("DOSU", "Dose Units"),
        ("EXTTIND", "Extension Trial Indicator"),
        ("FCNTRY", "Planned Country of Investigational Sites"),
        ("HLTSUBJI", "Healthy Subject Indicator"),
        ("INDIC", "Trial Disease/Condition Indication"),
        ("INTMODEL", "Intervention Model"),
        ("INTTYPE", "Intervention Type"),
        ("LENGTH", "Trial Length"),
        ("NARMS", "Planned Number of Arms"),
        ("OBJPRIM", "Trial Primary Objective"),
        ("OBJSEC", "Trial Secondary Objective"),
        ("OUTMSPRI", "Primary Outcome Measure"),
        ("OUTMSSEC", "Secondary Outcome Measure"),
        ("PCLAS", "Pharmacologic Class"),
        ("PLANSUB", "Planned Number of Subjects"),
        ("RANDOM", "Trial is Randomized"),
        ("REGID", "Registry Identifier"),
        ("ROUTE", "Route of Administration"),
        ("SDTIGVER", "SDTM IG Version"),
        ("SDTMVER", "SDTM Version"),
        ("SENDTC", "Study End Date"),
        ("SEXPOP", "Sex of Participants"),
        ("SPONSOR", "Clinical Study Sponsor"),
        ("SSTDTC", "Study Start Date"),
        ("STYPE", "Study Type"),
        ("STOPRULE", "Study Stop Rules"),
        ("TBLIND", "Trial Blinding Schema"),
        ("TCNTRL", "Control Type"),
        ("TDIGRP", "Diagnosis Group"),
        ("TINDTP", "Trial Intent Type"),
        ("TITLE", "Trial Title"),
        ("TPHASE", "Trial Phase Classification"),
        ("TRT", "Investigational Therapy or Treatment"),
        ("TTYPE", "Trial Type"),
    ),
    nci_code="C66738",
    extensible=True,
)

TRIAL_PHASE: Final = Codelist(
    "TPHASE",
    "Trial Phase Response",
    (
        Term("phase_1", "PHASE I TRIAL", "Phase I trial", "C15600"),
        Term("phase_1_2", "PHASE I/II TRIAL", "Phase I/II trial", "C15693"),
        Term("phase_2", "PHASE II TRIAL", "Phase II trial", "C15601"),
        Term("phase_2_3", "PHASE II/III TRIAL", "Phase II/III trial", "C15694"),
        Term("phase_3", "PHASE III TRIAL", "Phase III trial", "C15602"),
        Term("phase_4", "PHASE IV TRIAL", "Phase IV trial", "C15603"),
    ),
    nci_code="C66737",
)
TRIAL_INDICATION_TYPE: Final = Codelist(
    "TINDTP",
    "Trial Indication Type Response",
    (
        Term("treatment", "TREATMENT", "Treatment", "C49656"),
        Term("prevention", "PREVENTION", "Prevention", "C49657"),
        Term("diagnosis", "DIAGNOSIS", "Diagnosis"),
    ),
    nci_code="C66736",
    extensible=True,
)
TRIAL_TYPE: Final = Codelist(
    "TTYPE",
    "Trial Type Response",
    (
        Term("efficacy", "EFFICACY", "Efficacy", "C49666"),
        Term("safety", "SAFETY", "Safety", "C49667"),
        Term("pharmacokinetic", "PHARMACOKINETIC", "Pharmacokinetic"),
        Term("pharmacodynamic", "PHARMACODYNAMIC", "Pharmacodynamic"),
    ),
    nci_code="C66739",
    extensible=True,
)
TRIAL_BLINDING: Final = Codelist(
    "TBLIND",
    "Trial Blinding Schema Response",
    (
        Term("open_label", "OPEN LABEL", "Open label", "C49659"),
        Term("single_blind", "SINGLE BLIND", "Single blind"),
        Term("double_blind", "DOUBLE BLIND", "Double blind", "C15228"),
    ),
    nci_code="C66735",
)
CONTROL_TYPE: Final = Codelist(
    "TCNTRL",
    "Control Type Response",
    (
        Term("none", "NONE", "No control", "C41132"),
        Term("placebo", "PLACEBO", "Placebo", "C49648"),
        Term("active", "ACTIVE", "Active"),
        Term("dose_response", "DOSE RESPONSE", "Dose response"),
    ),
    nci_code="C66785",
    extensible=True,
)
SEX_POPULATION: Final = Codelist(
    "SEXPOP",
    "Sex of Participants",
    (
        Term("both", "BOTH", "Both", "C49636"),
        Term("female", "F", "Female"),
        Term("male", "M", "Male"),
    ),
    nci_code="C66732",
)
STUDY_TYPE: Final = Codelist(
    "STYPE",
    "Study Type Response",
    (
        Term("interventional", "INTERVENTIONAL", "Interventional", "C98388"),
        Term("observational", "OBSERVATIONAL", "Observational"),
    ),
    nci_code="C99077",
    extensible=True,
)
INTERVENTION_MODEL: Final = Codelist(
    "INTMODEL",
    "Intervention Model Response",
    (
        Term("single_group", "SINGLE GROUP", "Single group", "C82640"),
        Term("parallel", "PARALLEL", "Parallel", "C82639"),
        Term("crossover", "CROSS-OVER", "Cross-over"),
    ),
    nci_code="C99076",
    extensible=True,
)
INTERVENTION_TYPE: Final = Codelist(
    "INTTYPE",
    "Intervention Type Response",
    (Term("drug", "DRUG", "Drug", "C1909"), Term("biological", "BIOLOGIC", "Biologic")),
    nci_code="C99078",
    extensible=True,
)
#: ISO 21090 null flavors of TSVALNF (a parameter without a value says why).
NULL_FLAVOR: Final = Codelist(
    "NULLFLAV",
    "Null Flavor",
    _same(("PINF", "Positive infinity"), ("NA", "Not applicable"), ("UNK", "Unknown")),
)
#: Epochs of the trial arms (TA.EPOCH).
EPOCH: Final = Codelist(
    "EPOCH",
    "Epoch",
    (
        Term("screening", "SCREENING", "Screening"),
        Term("run_in", "RUN-IN", "Run-in"),
        Term("treatment", "TREATMENT", "Treatment"),
        Term("follow_up", "FOLLOW-UP", "Follow-up"),
    ),
    nci_code="C99079",
    extensible=True,
)
#: Category of an inclusion/exclusion criterion (TI.IECAT).
CRITERION_CATEGORY: Final = Codelist(
    "IECAT",
    "Category for Inclusion/Exclusion",
    (Term("inclusion", "INCLUSION", "Inclusion"), Term("exclusion", "EXCLUSION", "Exclusion")),
    nci_code="C66797",
)

#: TSPARMCD -> the codelist its TSVAL takes (parameters not listed take free text or numbers).
TS_VALUE_CODELIST: Final[dict[str, str]] = {
    "ADAPT": "NY",
    "ADDON": "NY",
    "EXTTIND": "NY",
    "HLTSUBJI": "NY",
    "RANDOM": "NY",
    "DOSFRQ": "FREQ",
    "DOSU": "UNIT",
    "ROUTE": "ROUTE",
    "INTMODEL": "INTMODEL",
    "INTTYPE": "INTTYPE",
    "SEXPOP": "SEXPOP",
    "STYPE": "STYPE",
    "TBLIND": "TBLIND",
    "TCNTRL": "TCNTRL",
    "TINDTP": "TINDTP",
    "TPHASE": "TPHASE",
    "TTYPE": "TTYPE",
}

TRIAL_CODELISTS: Final = (
    TS_PARAMETER, TRIAL_PHASE, TRIAL_INDICATION_TYPE, TRIAL_TYPE, TRIAL_BLINDING, CONTROL_TYPE,
    SEX_POPULATION, STUDY_TYPE, INTERVENTION_MODEL, INTERVENTION_TYPE, NULL_FLAVOR, EPOCH,
    CRITERION_CATEGORY,
)  # fmt: skip
