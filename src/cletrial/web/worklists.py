"""Worklists: what waits for whom, most urgent first.

* **coordinator** (the site enters data): visits and labs due or overdue (from each patient's
  recommendation, as the dashboard shows them), planned visits of the protocol's schedule whose
  window has ended with no visit recorded in it (patients on study, up to their first
  disposition), and the queries waiting for the site's answer (new or open);
* **investigator**: visits awaiting signature (open);
* **monitor** (monitors and data managers): queries answered (waiting for the monitor), new and
  open; then the forms the protocol's verification plan requires and nobody has verified yet.

Each item is a :class:`~cletrial.web.schemas_monitoring.WorklistItemPublic`. The lists are read
with a few grouped queries whatever the number of patients; a list is cut at ``limit`` items and
says how many there are in all.

>>> import datetime as dt
>>> plan = ((0, 0, 0), (4, 28, 7), (8, 56, 7), (12, 84, 7))
>>> [week for week, *_ in compute_missing_visits(plan, dt.date(2024, 1, 1),
...                                             [dt.date(2024, 1, 30)], None, dt.date(2024, 3, 20))]
[8]
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import null, select

from cletrial.store import UnitOfWork
from cletrial.store.capture_rules import compute_study_today
from cletrial.store.fields import table_of
from cletrial.store.records import PatientRecord
from cletrial.store.repositories.verification import SDV_FORMS, SdvPlan
from cletrial.store.tables_forms import BY_VISIT
from cletrial.web.accounts import WebUser
from cletrial.web.monitoring_views import ACTIVE_STATUSES, field_title, form_title
from cletrial.web.schemas_monitoring import WorklistItemPublic
from cletrial.web.summaries import patient_summaries
from cletrial.web.templating import label

__all__ = [
    "WORKLIST_KINDS",
    "Worklist",
    "build_worklist",
    "compute_due_items",
    "compute_missing_visits",
    "compute_unverified_forms",
    "patients_in_scope",
    "study_day",
    "summaries_in_scope",
    "worklist_kinds",
]

#: The worklists, and the permissions that open each (any of them).
WORKLIST_KINDS: Final = {"coordinator": ("edit",), "investigator": ("sign",),
                         "monitor": ("query", "verify")}  # fmt: skip
#: The worklist a role sees first.
ROLE_WORKLIST: Final = {"coordinator": "coordinator", "investigator": "investigator",
                        "monitor": "monitor", "data_manager": "monitor"}  # fmt: skip
#: Order of the statuses in a list (most urgent first).
_URGENCY: Final = {"overdue": 0, "missing": 1, "answered": 2, "new": 3, "open": 4, "due": 5,
                   "to sign": 6, "to verify": 7}  # fmt: skip
#: The date column shown for each form (visit forms: their visit's date).
_DATE_COLUMNS: Final = {
    "screenings": "screening_date", "visits": "visit_date", "labs": "sample_date",
    "doses": "start_date", "adverse_events": "start_date", "pregnancy_tests": "test_date",
    "concomitant_medications": "start_date", "dispositions": "disposition_date",
    "immunology_results": "sample_date", "nerve_conduction_studies": "study_date",
}  # fmt: skip
#: A column that tells records of a form apart (lab test, adverse event term, ...).
_DETAIL_COLUMNS: Final = {
    "labs": "test", "adverse_events": "term", "visits": "kind", "doses": "regimen",
    "dispositions": "kind", "immunology_results": "test", "concomitant_medications": "name",
    "pregnancy_tests": "result",
}  # fmt: skip


@dataclass(frozen=True)
class Worklist:
    """One worklist: its first ``limit`` items, how many there are, and how many of each kind
    of item (before the cut)."""

    kind: str
    items: list[WorklistItemPublic]
    total: int
    counts: dict[str, int] = field(default_factory=dict)


def worklist_kinds(user: WebUser) -> list[str]:
    """The worklists the user may see, their role's own first.

    >>> u = WebUser(id=1, username="i", display_name="I", role="investigator", active=True,
    ...             site_ids=frozenset({1}), version=1)
    >>> worklist_kinds(u)
    ['investigator', 'coordinator']
    """
    kinds = [k for k, perms in WORKLIST_KINDS.items() if any(user.can(p) for p in perms)]
    first = ROLE_WORKLIST.get(user.role)
    return sorted(kinds, key=lambda k: k != first)


def study_day(state: Any) -> dt.date:
    """Today in the time zone of the study the application serves (UTC when not set; the zone
    is read once per application)."""
    if not hasattr(state, "study_time_zone"):
        with UnitOfWork(state.engine, read_only=True) as uow:
            studies = uow.studies.list()
        state.study_time_zone = studies[0].time_zone if studies else None
    return compute_study_today(state.study_time_zone)


def patients_in_scope(uow: UnitOfWork, user: WebUser) -> list[PatientRecord]:
    """The patients of the user's sites."""
    out = []
    for site_id in sorted(user.site_ids):
        out.extend(uow.patients.list(site_id=site_id))
    return out


def summaries_in_scope(
    uow: UnitOfWork, user: WebUser, state: Any, today: dt.date
) -> list[dict[str, Any]]:
    """Summary lines of the user's patients (cached per patient, see cletrial.web.summaries)."""
    return patient_summaries(uow, state.protocol, state.summaries, patients_in_scope(uow, user),
                             today)  # fmt: skip


def compute_due_items(rows: Iterable[dict[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    """Visits and labs due or overdue for the patients on study, overdue first then by date:
    ``{"patient", "what", "date" (ISO), "overdue", "kind"}`` (``visit`` or ``lab``)."""
    due: list[dict[str, Any]] = []
    for row in rows:
        reco = row["reco"]
        if not row["on_study"] or reco is None:
            continue
        visit = reco.get("next_visit")
        if visit:
            late = dt.date.fromisoformat(visit["window_end"]) < today
            due.append({"patient": row["patient"], "what": f"visit: {visit['label']}",
                        "date": visit["date"], "overdue": late, "kind": "visit"})  # fmt: skip
        for lab in reco.get("labs_due", []):
            due.append({"patient": row["patient"], "what": lab["name"], "date": lab["due"],
                        "overdue": lab["overdue"], "kind": "lab"})  # fmt: skip
    due.sort(key=lambda d: (not d["overdue"], d["date"]))
    return due


def compute_missing_visits(
    plan: Sequence[tuple[int, int, int]], first_dose: dt.date, visit_dates: Sequence[dt.date],
    end: dt.date | None, today: dt.date,
) -> list[tuple[int, dt.date, dt.date, dt.date]]:  # fmt: skip
    """Planned visits (``(week, day, window_days)`` of the protocol, from the first dose) whose
    window ended before ``today`` with no visit recorded in it, up to ``end`` (the first
    disposition); each as ``(week, target date, window start, window end)``.

    >>> d = dt.date
    >>> compute_missing_visits(((0, 0, 0), (4, 28, 7)), d(2024, 1, 1), [], None, d(2024, 2, 5))
    []
    >>> compute_missing_visits(((0, 0, 0), (4, 28, 7)), d(2024, 1, 1), [], None, d(2024, 2, 6))
    [(4, datetime.date(2024, 1, 29), datetime.date(2024, 1, 22), datetime.date(2024, 2, 5))]
    """
    days = sorted(v.toordinal() for v in visit_dates)
    out = []
    day0, k = first_dose.toordinal(), 0
    for week, day, window in plan[1:]:
        target = day0 + day
        start, stop = target - window, target + window
        if stop >= today.toordinal() or (end is not None and target > end.toordinal()):
            break
        while k < len(days) and days[k] < start:
            k += 1
        if k < len(days) and days[k] <= stop:
            continue
        out.append((week, dt.date.fromordinal(target), dt.date.fromordinal(start),
                    dt.date.fromordinal(stop)))  # fmt: skip
    return out


def _by_patient(
    uow: UnitOfWork, table: str, column: str, ids: Collection[int]
) -> dict[int, list[Any]]:
    t = table_of(table)
    found: dict[int, list[Any]] = defaultdict(list)
    if ids:
        rows = uow.connection.execute(
            select(t.c.patient_id, t.c[column]).where(t.c.patient_id.in_(list(ids)))
        )
        for pid, value in rows:
            found[int(pid)].append(value)
    return found


def _item(kind: str, patient: Any, site: str | None, what: str, date: Any, status: str,
          link: str) -> WorklistItemPublic:  # fmt: skip
    day = date.date() if isinstance(date, dt.datetime) else date
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return WorklistItemPublic(kind=kind, patient_id=patient.id, study_code=patient.study_code,
                              site_code=site, what=what, date=day, status=status,
                              link=link)  # fmt: skip


def _query_items(uow: UnitOfWork, site_ids: Sequence[int], statuses: Sequence[str],
                 patients: dict[int, Any]) -> list[WorklistItemPublic]:  # fmt: skip
    rows = uow.queries.listing(site_ids=site_ids, statuses=statuses, limit=100_000)
    rows.sort(key=lambda r: (_URGENCY.get(r["status"], 9), r["opened_at"], r["id"]))
    return [
        _item("query", patients[r["patient_id"]], r["site_code"],
              f"query #{r['id']} on {form_title(r['table_name'])}"
              + (f", {field_title(r['table_name'], r['field'])}" if r["field"] else "")
              + f": {r['subject']}", r["opened_at"], r["status"], f"/queries/{r['id']}")
        for r in rows if r["patient_id"] in patients
    ]  # fmt: skip


def _coordinator(
    uow: UnitOfWork, rows: list[dict[str, Any]], plan: Any, today: dt.date,
    sites: dict[int, str], site_ids: Sequence[int],
) -> list[WorklistItemPublic]:  # fmt: skip
    items = []
    for due in compute_due_items(rows, today):
        patient = due["patient"]
        items.append(_item(f"{due['kind']}_due", patient, sites.get(patient.site_id), due["what"],
                           due["date"], "overdue" if due["overdue"] else "due",
                           f"/patients/{patient.id}"))  # fmt: skip
    on_study = [r["patient"] for r in rows if r["on_study"] and r["patient"].first_dose_date]
    ids = [p.id for p in on_study]
    visits = _by_patient(uow, "visits", "visit_date", ids)
    ends = {pid: min(days) for pid, days in
            _by_patient(uow, "dispositions", "disposition_date", ids).items()}  # fmt: skip
    for patient in on_study:
        for week, target, start, stop in compute_missing_visits(
            plan, patient.first_dose_date, visits.get(patient.id, []), ends.get(patient.id), today
        ):
            items.append(_item("missing_visit", patient, sites.get(patient.site_id),
                               f"week {week} visit: none recorded from {start} to {stop}",
                               target, "missing", f"/patients/{patient.id}"))  # fmt: skip
    patients = {r["patient"].id: r["patient"] for r in rows}
    items += _query_items(uow, site_ids, ("new", "open"), patients)
    return items


def _investigator(uow: UnitOfWork, patients: dict[int, Any],
                  sites: dict[int, str]) -> list[WorklistItemPublic]:  # fmt: skip
    t = table_of("visits")
    rows = uow.connection.execute(
        select(t.c.id, t.c.patient_id, t.c.visit_date, t.c.kind, t.c.label)
        .where(t.c.patient_id.in_(list(patients)), t.c.status == "open")
        .order_by(t.c.visit_date, t.c.id)
    ).all() if patients else []  # fmt: skip
    return [
        _item("to_sign", patients[pid], sites.get(patients[pid].site_id),
              f"{kind} visit{' · ' + lab if lab else ''} of {day}: awaiting signature",
              day, "to sign", f"/visits/{vid}")
        for vid, pid, day, kind, lab in rows
    ]  # fmt: skip


def compute_unverified_forms(
    uow: UnitOfWork, plan: SdvPlan, *, site_ids: Collection[int] | None = None,
    patient_ids: Collection[int] | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Records the verification plan requires that are not verified as a whole, oldest first:
    ``{"table", "record_id", "patient_id", "study_code", "site_code", "date", "detail",
    "visit_id"}`` (one query per form)."""
    patients, sites, visits = table_of("patients"), table_of("sites"), table_of("visits")
    marks = table_of("sdv_marks")
    verified = {(r[0], int(r[1])) for r in uow.connection.execute(
        select(marks.c.table_name, marks.c.record_id).where(marks.c.field == "*"))}  # fmt: skip
    out: list[dict[str, Any]] = []
    for table in SDV_FORMS:
        t = table_of(table)
        by_visit = table in BY_VISIT
        owner = visits.c.patient_id if by_visit else t.c.patient_id
        date = visits.c.visit_date if by_visit else t.c[_DATE_COLUMNS[table]]
        source = t.join(visits, visits.c.id == t.c.visit_id) if by_visit else t
        detail = t.c[_DETAIL_COLUMNS[table]] if table in _DETAIL_COLUMNS else null()
        visit = t.c.id if table == "visits" else t.c.visit_id if "visit_id" in t.c else null()
        query = select(t.c.id, owner, patients.c.study_code, sites.c.code, date, detail,
                       visit).select_from(
            source.join(patients, patients.c.id == owner)
            .join(sites, sites.c.id == patients.c.site_id))  # fmt: skip
        if site_ids is not None:
            query = query.where(patients.c.site_id.in_(list(site_ids)))
        if patient_ids is not None:
            query = query.where(owner.in_(list(patient_ids)))
        for rid, pid, code, site, day, what, vid in uow.connection.execute(query):
            if (table, rid) in verified or not plan.requires(table, rid):
                continue
            out.append({"table": table, "record_id": int(rid), "patient_id": int(pid),
                        "study_code": code, "site_code": site, "date": day,
                        "detail": "" if what is None else label(what),
                        "visit_id": vid})  # fmt: skip
    out.sort(key=lambda r: (r["date"] or dt.date.min, r["study_code"], r["table"]))
    return out


def _monitor(uow: UnitOfWork, site_ids: Sequence[int], plan: SdvPlan,
             patients: dict[int, Any]) -> list[WorklistItemPublic]:  # fmt: skip
    items = _query_items(uow, site_ids, ACTIVE_STATUSES, patients)
    for form in compute_unverified_forms(uow, plan, site_ids=site_ids):
        link = (f"/visits/{form['visit_id']}" if form["visit_id"]
                else f"/patients/{form['patient_id']}#h-sdv")  # fmt: skip
        what = f"verify {form_title(form['table'])}" + (f" ({form['detail']})" if form["detail"]
                                                         else "")  # fmt: skip
        items.append(_item("sdv", patients[form["patient_id"]], form["site_code"], what,
                           form["date"], "to verify", link))  # fmt: skip
    return items


def build_worklist(
    kind: str, uow: UnitOfWork, user: WebUser, state: Any, *, plan: SdvPlan,
    limit: int = 200,
) -> Worklist:  # fmt: skip
    """The worklist ``kind`` (coordinator, investigator, monitor) of the user's sites; the
    caller checks the user may see it (:func:`worklist_kinds`)."""
    sites = {s.id: s.code for s in uow.sites.list()}
    site_ids = sorted(user.site_ids)
    if kind == "coordinator":
        today = study_day(state)
        rows = summaries_in_scope(uow, user, state, today)
        items = _coordinator(uow, rows, state.protocol.get().visit_plan, today, sites, site_ids)
        items.sort(key=lambda i: (_URGENCY.get(i.status, 9), i.date or dt.date.max))
    elif kind == "investigator":
        patients = {p.id: p for p in patients_in_scope(uow, user)}
        items = _investigator(uow, patients, sites)
    else:
        patients = {p.id: p for p in patients_in_scope(uow, user)}
        items = _monitor(uow, site_ids, plan, patients)
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.kind] += 1
    return Worklist(kind, items[:limit], len(items), dict(counts))
