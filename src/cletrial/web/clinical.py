"""What the web layer does with the study database: scoped reads and the clinical writes.

Both the REST API and the pages call these functions inside one
:class:`cletrial.store.UnitOfWork` (opened by the route, with the user's name as the actor), so a
visit, its forms, labs, adverse events and dose are saved together with their audit rows, or
not at all. Object-level access is checked here: a patient of another site is refused
(:meth:`cletrial.web.accounts.WebUser.check_site`, which logs the attempt without identifiers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cletrial.errors import InputError, NotFoundError
from cletrial.store.capture_rules import compute_study_today
from cletrial.store.records import (
    ClasiRecord,
    LabRecord,
    PatientRecord,
    SkindexRecord,
    SledaiRecord,
    VisitRecord,
)
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.web.accounts import WebUser
from cletrial.web.schemas_clinical import (
    ClasiPublic,
    LabCreate,
    LabPublic,
    PatientCreate,
    PatientPublic,
    SignaturePublic,
    SkindexPublic,
    SledaiPublic,
    VisitCreate,
    VisitPublic,
    VisitUpdate,
)

__all__ = [
    "SavedVisit",
    "compose_visit_public",
    "create_patient",
    "create_visit",
    "form_as_dict",
    "labs_of_visit",
    "patient_in_scope",
    "patient_public",
    "update_visit",
    "visit_in_scope",
    "visit_public",
    "visits_public",
]


def labs_of_visit(uow: UnitOfWork, visit_id: int) -> list[LabRecord]:
    """The lab results recorded with a visit (one indexed query, not the patient's whole list):
    the store's ``uow.labs.for_visit``."""
    return uow.labs.for_visit(visit_id)


def patient_in_scope(
    uow: UnitOfWork, user: WebUser, patient_id: int, route: str | None = None
) -> PatientRecord:
    """Return the patient if it exists and is at one of the user's sites (else 404 / 403)."""
    patient = uow.patients.get(patient_id)
    user.check_site(patient.site_id, route=route)
    return patient


def visit_in_scope(
    uow: UnitOfWork, user: WebUser, visit_id: int, route: str | None = None
) -> tuple[VisitRecord, PatientRecord]:
    """Return the visit and its patient if the patient is at one of the user's sites."""
    visit = uow.visits.get(visit_id)
    patient = uow.patients.get(visit.patient_id)
    user.check_site(patient.site_id, route=route)
    return visit, patient


def form_as_dict(form: Any) -> dict[str, Any] | None:
    """A validated msgspec form (CLASI or SLEDAI-2K) as plain JSON-ready data."""
    if form is None:
        return None
    import msgspec

    out = msgspec.to_builtins(form)
    return out if isinstance(out, dict) else None


def patient_public(patient: PatientRecord, verdict: str | None = None) -> PatientPublic:
    """The public shape of a patient."""
    return PatientPublic(
        id=patient.id,
        version=patient.version,
        study_id=patient.study_id,
        site_id=patient.site_id,
        study_code=patient.study_code,
        sex=patient.sex,
        reproductive_potential=patient.reproductive_potential,
        irregular_cycles=patient.irregular_cycles,
        cle_subtype=patient.cle_subtype,
        sle=patient.sle,
        diagnosis_date=patient.diagnosis_date,
        first_dose_date=patient.first_dose_date,
        screening_verdict=verdict,
    )


def create_patient(
    uow: UnitOfWork, user: WebUser, body: PatientCreate, verdict: str | None
) -> PatientRecord:
    """Screen a patient at one of the user's sites: the patient and the screening record."""
    site = uow.sites.get(body.site_id)
    user.check_site(site.id, route="POST /patients")
    fields = body.model_dump(
        exclude={"site_id", "study_code", "screening_date", "screening"}, exclude_none=True
    )
    patient = uow.patients.create(
        study_id=site.study_id, site_id=site.id, study_code=body.study_code, **fields
    )
    uow.screenings.save(
        patient.id, screening_date=body.screening_date, record=body.screening, verdict=verdict
    )
    return patient


def _add_labs(
    uow: UnitOfWork, patient_id: int, visit_id: int, visit_date: dt.date, labs: list[LabCreate]
) -> list[LabRecord]:
    seen: set[tuple[dt.date, str]] = set()
    added = []
    for index, lab in enumerate(labs):
        sample_date = lab.sample_date or visit_date
        key = (sample_date, lab.test)
        if key in seen:
            raise InputError(f"labs[{index}].test", lab.test, "is given twice for the same date")
        seen.add(key)
        try:
            added.append(uow.labs.add(
                patient_id=patient_id, visit_id=visit_id, sample_date=sample_date,
                test=lab.test, value=lab.value, unit=lab.unit, lln=lab.lln,
                value_confirmed=lab.confirmed,
            ))  # fmt: skip
        except InputError as exc:
            name = exc.field.removeprefix("labs.")
            raise type(exc)(f"labs[{index}].{name}", exc.value, exc.problem) from None
    return added


def study_today(uow: UnitOfWork, patient_id: int) -> dt.date:
    """Today in the time zone of the patient's study (the bound of every date entered)."""
    context = uow.capture_rules.context(patient_id)
    return context.today if context is not None else compute_study_today(None)


@dataclass(frozen=True)
class SavedVisit:
    """A visit as just written, with its forms and lab results (no need to read them back)."""

    visit: VisitRecord
    clasi: ClasiRecord | None
    sledai: SledaiRecord | None
    labs: list[LabRecord]
    skindex: SkindexRecord | None = None


def create_visit(uow: UnitOfWork, patient: PatientRecord, body: VisitCreate) -> SavedVisit:
    """Record a visit with its CLASI, SLEDAI-2K, labs, adverse events and dose (one unit).

    Returns the records as written, so the answer is built without reading them back.
    """
    visit, clasi, sledai, skindex = uow.visits.create_with_forms(
        patient_id=patient.id,
        visit_date=body.visit_date,
        kind=body.kind,
        label=body.label,
        medications=body.medications,
        notes=body.notes,
        clasi=body.clasi,
        sledai=body.sledai,
        cla_iga=body.cla_iga,
        skindex=body.skindex,
    )
    labs = _add_labs(uow, patient.id, visit.id, body.visit_date, body.labs)
    for event in body.adverse_events:
        uow.adverse_events.add(patient_id=patient.id, visit_id=visit.id, **event.model_dump())
    if body.dose is not None:
        _save_dose(uow, patient.id, body.dose.start_date or body.visit_date, body.dose.regimen,
                   body.dose.note, visit.id)  # fmt: skip
    starts = body.dose is not None and body.dose.regimen != "off"
    if body.kind == "baseline" and patient.first_dose_date is None and starts:
        assert body.dose is not None
        uow.patients.update(
            patient.id,
            expected_version=patient.version,
            reason="first dose recorded at the baseline visit",
            first_dose_date=body.dose.start_date or body.visit_date,
        )
    return SavedVisit(visit, clasi, sledai, labs, skindex)


def _save_dose(
    uow: UnitOfWork,
    patient_id: int,
    start: dt.date,
    regimen: str,
    note: str | None,
    visit_id: int | None = None,
) -> None:
    existing = [d for d in uow.doses.for_patient(patient_id) if d.start_date == start]
    if existing:
        current = existing[0]
        uow.doses.update(
            current.id,
            expected_version=current.version,
            reason="regimen corrected at the visit",
            regimen=regimen,
            note=note,
        )
        return
    uow.doses.add(
        patient_id=patient_id, start_date=start, regimen=regimen, note=note, visit_id=visit_id
    )


def _check_removals(body: VisitUpdate) -> None:
    for name in ("clasi", "sledai", "skindex"):
        if getattr(body, f"remove_{name}") and getattr(body, name) is not None:
            raise InputError(f"remove_{name}", True, f"cannot save and remove the {name} form "
                             "in one edit: send one or the other")  # fmt: skip
    for lab in body.labs:
        if lab.test in body.remove_labs:
            raise InputError("remove_labs", lab.test, "cannot save and remove the same test")


def _remove_form(
    repo: Any, visit_id: int, expected_version: int | None, reason: str, name: str
) -> None:
    """Delete a visit's saved form (audited, with the reason); nothing stored: nothing to do."""
    stored = repo.for_visit(visit_id)
    if stored is None:
        return
    if expected_version is None:
        raise InputError(f"{name}_version", None,
                         "the version of the saved form is required to remove it")  # fmt: skip
    repo.delete(stored.id, expected_version=expected_version, reason=reason)


def _remove_labs(uow: UnitOfWork, visit_id: int, body: VisitUpdate) -> None:
    stored = labs_of_visit(uow, visit_id)
    for test in dict.fromkeys(body.remove_labs):
        found = [lab for lab in stored if lab.test == test]
        if len(found) > 1:
            raise InputError("remove_labs", test, "several results of this test belong to the "
                             "visit: remove them one by one through the lab records")  # fmt: skip
        if not found:
            continue
        version = body.lab_versions.get(test)
        if version is None:
            raise InputError(
                f"lab_versions.{test}", None, "the version of the stored result is required"
            )
        uow.labs.delete(found[0].id, expected_version=version, reason=body.reason)


def update_visit(uow: UnitOfWork, visit: VisitRecord, body: VisitUpdate) -> VisitRecord:
    """Apply an edit to a visit and its forms and labs, quoting the versions read (else 409).

    Forms and lab results named by ``remove_clasi``, ``remove_sledai`` and ``remove_labs`` are
    deleted (audited with the edit's reason): they become missing, never 0.
    """
    _check_removals(body)
    reason = body.reason
    changes = body.model_dump(
        include={"visit_date", "kind", "label", "medications", "notes", "cla_iga"},
        exclude_unset=True,
    )
    updated = uow.visits.update(visit.id, expected_version=body.version, reason=reason, **changes)
    if body.clasi is not None:
        uow.clasi.save(visit.id, body.clasi, expected_version=body.clasi_version, reason=reason)
    elif body.remove_clasi:
        _remove_form(uow.clasi, visit.id, body.clasi_version, reason, "clasi")
    if body.sledai is not None:
        uow.sledai.save(visit.id, body.sledai, expected_version=body.sledai_version, reason=reason)
    elif body.remove_sledai:
        _remove_form(uow.sledai, visit.id, body.sledai_version, reason, "sledai")
    if body.skindex is not None:
        uow.skindex.save(visit.id, body.skindex, expected_version=body.skindex_version,
                         reason=reason)  # fmt: skip
    elif body.remove_skindex:
        _remove_form(uow.skindex, visit.id, body.skindex_version, reason, "skindex")
    _remove_labs(uow, visit.id, body)
    current_labs = {(lab.test, lab.sample_date): lab for lab in labs_of_visit(uow, visit.id)}
    new_labs: list[LabCreate] = []
    for lab in body.labs:
        sample_date = lab.sample_date or updated.visit_date
        stored = current_labs.get((lab.test, sample_date))
        if stored is None and lab.sample_date is None:
            # A result dated by its visit moves with the visit: never a second result.
            stored = current_labs.get((lab.test, visit.visit_date))
        if stored is None:
            new_labs.append(lab)
            continue
        version = body.lab_versions.get(lab.test)
        if version is None:
            raise InputError(
                f"lab_versions.{lab.test}", None, "the version of the stored result is required"
            )
        moved = {"sample_date": sample_date} if stored.sample_date != sample_date else {}
        uow.labs.update(
            stored.id, expected_version=version, reason=reason,
            value=lab.value, unit=lab.unit, lln=lab.lln, value_confirmed=lab.confirmed or None,
            **moved,
        )  # fmt: skip
    _add_labs(uow, visit.patient_id, visit.id, updated.visit_date, new_labs)
    return updated


def visit_public(uow: UnitOfWork, visit: VisitRecord) -> VisitPublic:
    """The public shape of a stored visit with its forms and labs (read from the database)."""
    saved = SavedVisit(visit, uow.clasi.for_visit(visit.id), uow.sledai.for_visit(visit.id),
                       labs_of_visit(uow, visit.id), uow.skindex.for_visit(visit.id))  # fmt: skip
    return compose_visit_public(saved)


def visits_public(uow: UnitOfWork, visits: list[VisitRecord]) -> list[VisitPublic]:
    """The public shapes of many stored visits, in the order given, as :func:`visit_public`
    builds each: their forms and labs are read in four queries (per 500 visits), however many
    visits there are."""
    ids = [visit.id for visit in visits]
    clasi, sledai = uow.clasi.for_visits(ids), uow.sledai.for_visits(ids)
    labs, skindex = uow.labs.for_visits(ids), uow.skindex.for_visits(ids)
    return [
        compose_visit_public(
            SavedVisit(v, clasi.get(v.id), sledai.get(v.id), labs[v.id], skindex.get(v.id))
        )
        for v in visits
    ]


def compose_visit_public(saved: SavedVisit) -> VisitPublic:
    """The public shape of a visit from its records (labs ordered by test)."""
    visit, clasi, sledai = saved.visit, saved.clasi, saved.sledai
    labs = sorted(saved.labs, key=lambda lab: (lab.test, lab.sample_date))
    return VisitPublic(
        id=visit.id,
        version=visit.version,
        patient_id=visit.patient_id,
        visit_date=visit.visit_date,
        kind=visit.kind,
        label=visit.label,
        medications=list(visit.medications) if visit.medications is not None else None,
        notes=visit.notes,
        status="signed" if visit.status == "signed" else "open",
        signed_by=visit.signed_by,
        signed_at=visit.signed_at,
        signature=None if visit.signed_at is None or visit.signed_by is None else SignaturePublic(
            printed_name=visit.signed_name or visit.signed_by, username=visit.signed_by,
            signed_at=visit.signed_at, meaning=visit.sign_meaning or "",
        ),
        clasi=None if clasi is None else ClasiPublic(
            id=clasi.id, version=clasi.version, entry=clasi.entry, activity=clasi.activity,
            damage=clasi.damage, activity_severity=clasi.activity_severity,
            form=form_as_dict(clasi.form),
        ),
        sledai=None if sledai is None else SledaiPublic(
            id=sledai.id, version=sledai.version, entry=sledai.entry, score=sledai.score,
            form=form_as_dict(sledai.form),
        ),
        cla_iga=visit.cla_iga,
        skindex=None if saved.skindex is None else SkindexPublic(
            id=saved.skindex.id, version=saved.skindex.version, form=saved.skindex.form,
            scores=saved.skindex.score.as_dict(),
        ),
        labs=[LabPublic(**{f: getattr(lab, f) for f in LabPublic.model_fields}) for lab in labs],
    )  # fmt: skip


def require_found(value: Any, what: str) -> Any:
    """Raise NotFoundError naming ``what`` when ``value`` is None."""
    if value is None:
        raise NotFoundError(f"{what}: no such record")
    return value
