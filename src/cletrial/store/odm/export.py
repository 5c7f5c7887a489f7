"""Write a study database as one CDISC ODM 1.3.2 Snapshot file, deterministically.

The file is a function of the database: ``CreationDateTime`` is the time of the last audit
record it carries (or ``as_of``), elements come in a fixed order, so two exports of the same
database are byte-identical. Patients appear under their pseudonymous study code only; names,
dates of birth and record numbers are left out unless ``include_identities`` is given.

AuditRecords: one per row of the database's audit trail (``SourceID`` = the audit row id,
``ID`` = ``AR.<id>``), followed after an ODM import by the source file's own AuditRecords
kept in ``odm_provenance`` (those come first, in file order, with their original IDs; the rows
the import itself wrote are not repeated, so export -> import -> export is byte-identical).

>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     _ = uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
>>> with engine.connect() as conn:
...     text = render_odm(conn, "S", as_of="2026-12-03T10:00:00+00:00")
>>> text.count("<SubjectData"), 'FileType="Snapshot"' in text
(0, True)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

from sqlalchemy import Connection, Engine, select

from cletrial.errors import InputError, NotFoundError
from cletrial.store.atomic import write_atomically
from cletrial.store.exporter import export_rows
from cletrial.store.import_export import _flat
from cletrial.store.odm import metadata as md
from cletrial.store.tables import User
from cletrial.store.tables_audit import AuditRow, OdmProvenance
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.vocabulary import CODELISTS

__all__ = ["export_odm", "export_odm_file", "render_odm"]

#: Start of a SignatureDef's LegalReason, followed by the signer's printed name.
_PRINTED = "Electronic signature; printed name: "

_USER_TYPES = {"investigator": "Investigator", "coordinator": "Investigator",
               "monitor": "Sponsor", "statistician": "Sponsor"}  # fmt: skip


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _decode(choices: tuple[str, ...]) -> dict[str, str]:
    for codelist in CODELISTS.values():
        if set(choices) <= set(codelist.values):
            return {v: codelist.decode(v) for v in choices}
    return {v: v for v in choices}


def _item_def(mdv: ET.Element, oid: str, kind: str, column: str) -> None:
    item = _sub(mdv, "ItemDef", OID=oid, Name=column, DataType=md.data_type(kind, column))
    spec = md.field_of(kind, column)
    if spec is None:
        return
    if spec.max_length is not None and item.get("DataType") == "text":
        item.set("Length", str(spec.max_length))
    if spec.bounds is not None:
        for comparator, bound in zip(("GE", "LE"), spec.bounds, strict=True):
            if abs(bound) != float("inf"):
                check = _sub(item, "RangeCheck", Comparator=comparator, SoftHard="Hard")
                _sub(check, "CheckValue", _value(bound if kind != "labs" else float(bound)))
    if spec.choices is not None:
        _sub(item, "CodeListRef", CodeListOID=f"CL.{spec.table.upper()}.{spec.name.upper()}")


def _codelists(mdv: ET.Element, groups: list[md.Group]) -> None:
    seen: set[str] = set()
    for group in groups:
        for column in group.items.values():
            spec = md.field_of(group.kind, column)
            if spec is None or spec.choices is None:
                continue
            oid = f"CL.{spec.table.upper()}.{spec.name.upper()}"
            if oid in seen:
                continue
            seen.add(oid)
            codelist = _sub(mdv, "CodeList", OID=oid, Name=spec.path, DataType="text")
            for value, decode in _decode(spec.choices).items():
                term = _sub(codelist, "CodeListItem", CodedValue=value)
                _sub(_sub(term, "Decode"), "TranslatedText", decode)


def _metadata(study: ET.Element, mdv_oid: str, include_identities: bool) -> None:
    mdv = _sub(study, "MetaDataVersion", OID=mdv_oid, Name=mdv_oid)
    protocol = _sub(mdv, "Protocol")
    for number, oid in enumerate(md.EVENTS, start=1):
        _sub(protocol, "StudyEventRef", StudyEventOID=oid, OrderNumber=str(number),
             Mandatory="No")  # fmt: skip
    for oid, (name, kind, repeating, forms) in md.EVENTS.items():
        event = _sub(mdv, "StudyEventDef", OID=oid, Name=name,
                     Repeating="Yes" if repeating else "No", Type=kind)  # fmt: skip
        for form in forms:
            _sub(event, "FormRef", FormOID=form, Mandatory="No")
    groups = list(md.GROUPS.values())
    for form in dict.fromkeys(g.form for g in groups):
        form_def = _sub(mdv, "FormDef", OID=form, Name=form[2:].lower(), Repeating="No")
        for group in groups:
            if group.form == form:
                _sub(form_def, "ItemGroupRef", ItemGroupOID=group.oid, Mandatory="No")
    for group in groups:
        group_def = _sub(mdv, "ItemGroupDef", OID=group.oid, Name=group.oid[3:].lower(),
                         Repeating="Yes" if group.repeating else "No")  # fmt: skip
        for oid, _column in _items(group, include_identities):
            _sub(group_def, "ItemRef", ItemOID=oid, Mandatory="No")
    for group in groups:
        for oid, column in _items(group, include_identities):
            _item_def(mdv, oid, group.kind, column)
    _codelists(mdv, groups)


def _items(group: md.Group, include_identities: bool) -> Iterator[tuple[str, str]]:
    for oid, column in group.items.items():
        if include_identities or not md.is_identifying(column):
            yield oid, column


def _audit_rows(conn: Connection) -> list[dict[str, Any]]:
    """The local audit rows, without those written by ODM imports (their txids)."""
    imports = select(AuditRow.txid).where(AuditRow.table_name == "odm_provenance")
    query = select(AuditRow).where(AuditRow.txid.not_in(imports)).order_by(AuditRow.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def _provenance(conn: Connection, kind: str) -> list[dict[str, Any]]:
    query = (select(OdmProvenance.payload).where(OdmProvenance.kind == kind)
             .order_by(OdmProvenance.position))  # fmt: skip
    return [json.loads(p) for p in conn.execute(query).scalars()]


def _audit_records(conn: Connection, location: str) -> list[dict[str, Any]]:
    records = _provenance(conn, "audit")
    prefix = "AR.L" if records else "AR."
    for row in _audit_rows(conn):
        records.append({"id": f"{prefix}{row['id']}", "user": md.user_oid(row["actor"]),
                        "location": location, "at": row["occurred_at"].isoformat(),
                        "reason": row["reason"], "source": str(row["id"])})  # fmt: skip
    return records


def _users(conn: Connection, actors: set[str]) -> list[dict[str, Any]]:
    users = {u["oid"]: u for u in _provenance(conn, "user")}
    table = User.__table__
    query = select(table.c.username, table.c.display_name, table.c.role).order_by(table.c.username)
    for row in conn.execute(query).mappings():
        users[md.user_oid(row["username"])] = {
            "oid": md.user_oid(row["username"]), "login": row["username"],
            "display": row["display_name"], "type": _USER_TYPES.get(row["role"], "Other"),
        }  # fmt: skip
    for oid in actors - set(users):
        users[oid] = {"oid": oid, "login": None, "display": None, "type": "Other"}
    return [users[oid] for oid in sorted(users)]


def _signatures(conn: Connection, study_code: str, visits: list[dict[str, Any]]) -> list[Any]:
    """Put each signed visit's signature on its row (``_signature``); return the SignatureDefs
    ``(oid, meaning, printed name)``, one per distinct meaning and printed name."""
    from cletrial.store.tables import Patient, Study, Visit

    query = (select(Patient.study_code, Visit.visit_date, Visit.signed_by, Visit.signed_at,
                    Visit.signed_name, Visit.sign_meaning)
             .join(Patient, Patient.id == Visit.patient_id)
             .join(Study, Study.id == Patient.study_id)
             .where(Study.code == study_code, Visit.status == "signed"))  # fmt: skip
    signed = {(r.study_code, r.visit_date): r for r in conn.execute(query)}
    kinds = sorted({(r.sign_meaning or "", r.signed_name or "") for r in signed.values()})
    oids = {kind: f"SD.{n}" for n, kind in enumerate(kinds, start=1)}
    for row in visits:
        found = signed.get((row["patient"], row["date"]))
        if found is not None:
            row["_signature"] = {
                "user": md.user_oid(found.signed_by or ""),
                "at": found.signed_at.isoformat(),
                "def": oids[(found.sign_meaning or "", found.signed_name or "")],
            }
    return [(oid, meaning, name) for (meaning, name), oid in oids.items()]


def _admin(root: ET.Element, users: list[dict[str, Any]], locations: list[tuple[str, str, str]],
           study_oid: str, mdv_oid: str, effective: str,
           signature_defs: list[Any]) -> None:  # fmt: skip
    admin = _sub(root, "AdminData", StudyOID=study_oid)
    for user in users:
        element = _sub(admin, "User", OID=user["oid"], UserType=user["type"])
        if user["login"] is not None:
            _sub(element, "LoginName", user["login"])
        if user["display"] is not None:
            _sub(element, "DisplayName", user["display"])
    for oid, name, kind in locations:
        location = _sub(admin, "Location", OID=oid, Name=name, LocationType=kind)
        _sub(location, "MetaDataVersionRef", StudyOID=study_oid, MetaDataVersionOID=mdv_oid,
             EffectiveDate=effective[:10])  # fmt: skip
    for oid, meaning, name in signature_defs:
        definition = _sub(admin, "SignatureDef", OID=oid, Methodology="Electronic")
        _sub(definition, "Meaning", meaning)
        _sub(definition, "LegalReason", f"{_PRINTED}{name}")


def _group_data(form: ET.Element, oid: str, values: dict[str, Any], key: int | None,
                include_identities: bool) -> None:  # fmt: skip
    group = md.GROUPS[oid]
    attrs = (
        {"ItemGroupOID": oid}
        if key is None
        else {"ItemGroupOID": oid, "ItemGroupRepeatKey": str(key)}
    )
    element = _sub(form, "ItemGroupData", **attrs)
    for item, column in _items(group, include_identities):
        if values.get(column) is not None:
            _sub(element, "ItemData", ItemOID=item, Value=_value(values[column]))


def _visit(subject: ET.Element, row: dict[str, Any], include_identities: bool) -> None:
    event = _sub(subject, "StudyEventData", StudyEventOID=f"SE.{row['kind'].upper()}",
                 StudyEventRepeatKey=row["date"].isoformat())  # fmt: skip
    signature = row.get("_signature")
    if signature is not None:
        element = _sub(event, "Signature")
        _sub(element, "UserRef", UserOID=signature["user"])
        _sub(element, "LocationRef", LocationOID=f"LOC.{row['_site']}")
        _sub(element, "SignatureRef", SignatureOID=signature["def"])
        _sub(element, "DateTimeStamp", signature["at"])
    flat = next(iter(_flat("visits", {"visits": [row]})))
    form = _sub(event, "FormData", FormOID="F.VISITS")
    _group_data(form, "IG.VISITS", flat, None, include_identities)
    for number, name in enumerate(row.get("medications") or [], start=1):
        _group_data(form, "IG.VISITS_MEDICATIONS", {"medications": name}, number, False)
    for form_oid, group_oid, prefix in (("F.CLASI", "IG.CLASI", "clasi_"),
                                        ("F.SLEDAI", "IG.SLEDAI", "sledai_")):  # fmt: skip
        if any(k.startswith(prefix) and v is not None for k, v in flat.items()):
            form = _sub(event, "FormData", FormOID=form_oid)
            _group_data(form, group_oid, flat, None, include_identities)


def _subject(clinical: ET.Element, code: str, rows: dict[str, list[dict[str, Any]]],
             include_identities: bool) -> None:  # fmt: skip
    patient = rows["patients"][0]
    subject = _sub(clinical, "SubjectData", SubjectKey=code)
    _sub(subject, "SiteRef", LocationOID=f"LOC.{patient['site']}")
    event = _sub(subject, "StudyEventData", StudyEventOID="SE.ENROLMENT")
    _group_data(_sub(event, "FormData", FormOID="F.PATIENTS"), "IG.PATIENTS", patient, None,
                include_identities)  # fmt: skip
    if rows.get("screenings"):
        _group_data(_sub(event, "FormData", FormOID="F.SCREENINGS"), "IG.SCREENINGS",
                    rows["screenings"][0], None, include_identities)  # fmt: skip
    for visit in rows.get("visits", []):
        _visit(subject, {**visit, "_site": patient["site"]}, include_identities)
    kinds = [oid[2:].lower() for oid in md.EVENTS["SE.RECORDS"][3]]
    if not any(rows.get(kind) for kind in kinds):
        return
    event = _sub(subject, "StudyEventData", StudyEventOID="SE.RECORDS")
    for kind in kinds:
        if rows.get(kind):
            form = _sub(event, "FormData", FormOID=f"F.{kind.upper()}")
            for number, row in enumerate(rows[kind], start=1):
                _group_data(form, f"IG.{kind.upper()}", row, number, include_identities)


def _by_patient(data: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = {p["patient"]: {} for p in data["patients"]}
    for kind, rows in data.items():
        for row in rows:
            if "patient" in row:
                out[row["patient"]].setdefault(kind, []).append(row)
    return out


def _audit(clinical: ET.Element, records: list[dict[str, Any]]) -> None:
    if not records:
        return
    trail = _sub(clinical, "AuditRecords")
    for record in records:
        element = _sub(trail, "AuditRecord", EditPoint="DBAudit", ID=record["id"])
        _sub(element, "UserRef", UserOID=record["user"])
        _sub(element, "LocationRef", LocationOID=record["location"])
        _sub(element, "DateTimeStamp", record["at"])
        if record["reason"] is not None:
            _sub(element, "ReasonForChange", record["reason"])
        _sub(element, "SourceID", record["source"])


def render_odm(conn: Connection, study_code: str, *, as_of: str | None = None,
               include_identities: bool = False) -> str:  # fmt: skip
    """Return the ODM 1.3.2 document of one study (see :func:`export_odm`)."""
    data = export_rows(conn, study=study_code, deidentify=not include_identities)
    study_row = data["studies"][0]
    study_oid = f"ST.{study_code}"
    mdv_oid = f"MDV.{study_row['protocol']}.{study_row['protocol_version']}"
    database = f"LOC.{study_code}.DATABASE"
    records = _audit_records(conn, database)
    signature_defs = _signatures(conn, study_code, data["visits"])
    created = as_of or (records[-1]["at"] if records else None)
    if created is None:
        raise NotFoundError(f"audit_log of {study_code}: empty; give as_of")
    root = ET.Element("ODM", {"xmlns": md.NS, "ODMVersion": "1.3.2", "FileType": "Snapshot",
                              "FileOID": f"cletrial.{study_code}.{created}",
                              "CreationDateTime": created, "Granularity": "All",
                              "SourceSystem": "cletrial"})  # fmt: skip
    study = _sub(root, "Study", OID=study_oid)
    variables = _sub(study, "GlobalVariables")
    _sub(variables, "StudyName", study_code)
    _sub(variables, "StudyDescription", study_row["title"])
    _sub(variables, "ProtocolName", study_row["protocol"])
    _metadata(study, mdv_oid, include_identities)
    locations = [(f"LOC.{s['site']}", s["name"], "Site") for s in data["sites"]]
    locations.append((database, "cletrial study database", "Other"))
    actors = {r["user"] for r in records} | {
        v["_signature"]["user"] for v in data["visits"] if "_signature" in v
    }
    _admin(root, _users(conn, actors), locations, study_oid, mdv_oid, created,
           signature_defs)  # fmt: skip
    clinical = _sub(root, "ClinicalData", StudyOID=study_oid, MetaDataVersionOID=mdv_oid)
    for code, rows in _by_patient(data).items():
        _subject(clinical, code, rows, include_identities)
    _audit(clinical, records)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def export_odm(uow: UnitOfWork, study_code: str, path: Path | str, *, as_of: str | None = None,
               include_identities: bool = False) -> Path:  # fmt: skip
    """Write one study as an ODM 1.3.2 Snapshot file, all or nothing; return the path.

    Parameters
    ----------
    uow : UnitOfWork
        A unit of work on the study database (read only is enough).
    study_code : str
        The study to export.
    path : Path or str
        The ``.xml`` file to write.
    as_of : str, optional
        ``CreationDateTime`` (ISO 8601); by default the time of the last audit record.
    include_identities : bool
        Also write names, dates of birth and record numbers (off by default).

    Raises
    ------
    NotFoundError
        No such study.
    """
    text = render_odm(uow.connection, study_code, as_of=as_of,
                      include_identities=include_identities)  # fmt: skip
    out = Path(path)

    def write(handle: IO[str]) -> None:
        handle.write(text)

    write_atomically({out: write})
    return out


def export_odm_file(engine: Engine, out: Path | str, *, study: str | None = None,
                    include_identities: bool = False) -> Path:  # fmt: skip
    """Export one study (``study``, or the only one of the database) with :func:`export_odm`.

    Raises
    ------
    InputError
        No ``study`` given and the database holds no study or several.
    """
    with UnitOfWork(engine, read_only=True) as uow:
        if study is None:
            codes = [s.code for s in uow.studies.list()]
            if len(codes) != 1:
                raise InputError(
                    "study",
                    None,
                    f"give --study: the database holds "
                    f"{len(codes)} studies ({', '.join(codes) or 'none'})",
                )
            study = codes[0]
        return export_odm(uow, study, out, include_identities=include_identities)
