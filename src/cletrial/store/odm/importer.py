"""Read an ODM 1.3.2 file written by :func:`cletrial.store.odm.export_odm` into an empty database.

The file is first validated against the ODM 1.3.2 schema shipped with odmlib, then read into
import-format rows (every value parsed by its column's type) and applied in one unit of work by
the importer of the JSON and CSV formats, so every store rule holds and a bad file changes
nothing. Errors name the element path, the OID and the value.

The source's audit trail: each AuditRecord (and each User) of the file is kept verbatim, in file
order, in ``odm_provenance``; the importing database's own audit rows record the import itself
(who, when, every record created). An ODM export of the imported database writes the kept
records back and leaves out the import's own rows, so export -> import -> export is identical.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any, Final
from xml.etree import ElementTree as ET

from lxml import etree
from sqlalchemy import Engine, select

from cletrial.errors import ImportFileError, InputError
from cletrial.store.import_formats import ImportRow, parse_cell
from cletrial.store.importer import apply_rows
from cletrial.store.odm import metadata as md
from cletrial.store.tables import Patient, Visit
from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["OdmFileError", "import_odm", "import_odm_file", "validate_odm"]

_Q = "{" + md.NS + "}"


class OdmFileError(ImportFileError):
    """A bad element of an ODM file: names the file, the element path, the OID and the value."""

    @property
    def message(self) -> str:
        return f"{self.file}, {self.column} = {self.value!r}: {self.problem}"


@cache
def _schema() -> etree.XMLSchema:
    import odmlib

    folder = Path(odmlib.__file__).parent / "schemas" / "odm" / "1.3.2"
    return etree.XMLSchema(etree.parse(str(folder / "ODM1-3-2.xsd")))


#: No entities resolved, no network, no DTD: a file cannot make the parser read anything else.
_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=True)  # fmt: skip


def validate_odm(path: Path | str) -> Any:
    """Validate a file against the ODM 1.3.2 schema (shipped with odmlib) and return its root.

    Raises
    ------
    ImportFileError
        Not well-formed XML, or not valid ODM 1.3.2 (naming the line, the element and the
        reason), or not a Snapshot written by cletrial.
    """
    name = str(path)
    try:
        tree = etree.parse(name, _PARSER)
    except OSError as exc:
        raise OdmFileError(name, 0, "/", None, f"cannot read: {exc}") from None
    except etree.XMLSyntaxError as exc:
        raise OdmFileError(name, 0, "/", None, f"not well-formed XML: {exc}") from None
    schema = _schema()
    if not schema.validate(tree):
        error = schema.error_log[0]
        raise OdmFileError(name, 0, f"line {error.line}, {error.path}", None,
                           f"not valid ODM 1.3.2: {error.message}")  # fmt: skip
    root = tree.getroot()
    if root.get("FileType") != "Snapshot" or root.get("SourceSystem") != "cletrial":
        raise OdmFileError(
            name,
            0,
            "/ODM/@FileType",
            root.get("FileType"),
            "must be a Snapshot written by cletrial export --format odm",
        )
    return root


def _attr(element: ET.Element, name: str, where: str, file: str) -> str:
    value = element.get(name)
    if value is None:
        raise OdmFileError(file, 0, f"{where}/@{name}", None, "is required")
    return value


def _ref(element: Any, tag: str, attribute: str) -> str:
    child = element.find(f"{_Q}{tag}")
    return "" if child is None else str(child.get(attribute, ""))


class _Reader:
    """Turns the ClinicalData of a validated file into import rows."""

    def __init__(self, file: str, study: str) -> None:
        self.file = file
        self.study = study
        self.rows: list[ImportRow] = []
        #: (patient, visit date, UserOID, SignatureOID, DateTimeStamp, element path).
        self.signatures: list[tuple[str, str, str, str, str, str]] = []

    def subject(self, element: ET.Element) -> None:
        code = _attr(element, "SubjectKey", "SubjectData", self.file)
        where = f"/ODM/ClinicalData/SubjectData[@SubjectKey={code!r}]"
        for event in element.iterfind(f"{_Q}StudyEventData"):
            oid = _attr(event, "StudyEventOID", where, self.file)
            if oid not in md.EVENTS:
                raise OdmFileError(
                    self.file,
                    0,
                    f"{where}/StudyEventData/@StudyEventOID",
                    oid,
                    f"unknown study event; known: {', '.join(md.EVENTS)}",
                )
            key = event.get("StudyEventRepeatKey")
            here = f"{where}/StudyEventData[@StudyEventOID={oid!r}]"
            visit: ImportRow | None = None
            for form in event.iterfind(f"{_Q}FormData"):
                visit = self.form(form, here, code, oid, visit)
            if visit is not None and key != str(visit.values.get("date")):
                raise OdmFileError(self.file, 0, f"{here}/@StudyEventRepeatKey", key,
                                   "must be the visit date")  # fmt: skip
            signature = event.find(f"{_Q}Signature")
            if signature is not None and key is not None:
                self.signatures.append((code, key, _ref(signature, "UserRef", "UserOID"),
                                        _ref(signature, "SignatureRef", "SignatureOID"),
                                        signature.findtext(f"{_Q}DateTimeStamp") or "",
                                        f"{here}/Signature"))  # fmt: skip

    def form(self, form: ET.Element, where: str, code: str, event: str,
             visit: ImportRow | None) -> ImportRow | None:  # fmt: skip
        oid = _attr(form, "FormOID", where, self.file)
        here = f"{where}/FormData[@FormOID={oid!r}]"
        if oid not in md.EVENTS[event][3]:
            raise OdmFileError(self.file, 0, f"{here}/@FormOID", oid,
                               f"not a form of {event}")  # fmt: skip
        for group in form.iterfind(f"{_Q}ItemGroupData"):
            visit = self.group(group, here, code, oid, visit)
        return visit

    def group(self, element: ET.Element, where: str, code: str, form: str,
              visit: ImportRow | None) -> ImportRow | None:  # fmt: skip
        oid = _attr(element, "ItemGroupOID", where, self.file)
        group = md.GROUPS.get(oid)
        here = f"{where}/ItemGroupData[@ItemGroupOID={oid!r}]"
        if group is None or group.form != form:
            raise OdmFileError(self.file, 0, f"{here}", oid, f"not an item group of {form}")
        key = element.get("ItemGroupRepeatKey")
        if key is not None:
            here = here[:-1] + f" and @ItemGroupRepeatKey={key!r}]"
        values = self.items(element, here, group)
        if group.oid in ("IG.CLASI", "IG.SLEDAI", "IG.VISITS_MEDICATIONS"):
            if visit is None:
                raise OdmFileError(self.file, 0, here, oid, "must follow the visit's IG.VISITS")
            if group.oid == "IG.VISITS_MEDICATIONS":
                visit.values.setdefault("medications", []).extend(values.get("medications", []))
            else:
                visit.values.update(values)
            return visit
        row = ImportRow(group.kind, f"{self.file}: {here}", int(key or 1),
                        {"study": self.study, "patient": code, **values})  # fmt: skip
        self.rows.append(row)
        return row if group.kind == "visits" else visit

    def items(self, element: ET.Element, where: str, group: md.Group) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for item in element.iterfind(f"{_Q}ItemData"):
            oid = _attr(item, "ItemOID", where, self.file)
            column = group.items.get(oid)
            here = f"{where}/ItemData[@ItemOID={oid!r}]"
            if column is None:
                raise OdmFileError(self.file, 0, here, oid,
                                   f"unknown item of {group.oid}")  # fmt: skip
            if column in values:
                raise OdmFileError(self.file, 0, here, oid, "given twice")
            text = item.get("Value")
            try:
                parsed = parse_cell(
                    group.kind,
                    column,
                    [text] if column == "medications" else text,
                    self.file,
                    0,
                    from_json=column == "medications",
                )
            except ImportFileError as exc:
                raise OdmFileError(self.file, 0, f"{here}/@Value", exc.value,
                                   exc.problem) from None  # fmt: skip
            if parsed is not None:
                values[column] = parsed
        return values


_KNOWN: Final = {
    "StudyEventDef": frozenset(md.EVENTS),
    "FormDef": frozenset(g.form for g in md.GROUPS.values()),
    "ItemGroupDef": frozenset(md.GROUPS),
    "ItemDef": frozenset(oid for g in md.GROUPS.values() for oid in g.items),
}


def _check_design(mdv: ET.Element, file: str) -> None:
    """Refuse a MetaDataVersion naming an event, form, item group or item cletrial lacks."""
    refs = {
        "StudyEventRef": ("StudyEventOID", "StudyEventDef"),
        "FormRef": ("FormOID", "FormDef"),
        "ItemGroupRef": ("ItemGroupOID", "ItemGroupDef"),
        "ItemRef": ("ItemOID", "ItemDef"),
    }
    for element in mdv.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.removeprefix(_Q)
        if tag in _KNOWN:
            attribute, kind = "OID", tag
        elif tag in refs:
            attribute, kind = refs[tag]
        else:
            continue
        oid = element.get(attribute, "")
        if oid not in _KNOWN[kind]:
            raise OdmFileError(file, 0, f"/ODM/Study/MetaDataVersion/{tag}/@{attribute}", oid,
                               f"unknown {kind} OID: the file was not written by this "
                               "version of cletrial")  # fmt: skip


def _study_rows(root: ET.Element, file: str) -> tuple[str, list[ImportRow]]:
    study = root.find(f"{_Q}Study")
    assert study is not None  # the schema requires it
    variables = study.find(f"{_Q}GlobalVariables")
    assert variables is not None
    code = (variables.findtext(f"{_Q}StudyName") or "").strip()
    mdv = study.find(f"{_Q}MetaDataVersion")
    mdv_oid = "" if mdv is None else mdv.get("OID", "")
    protocol = (variables.findtext(f"{_Q}ProtocolName") or "").strip()
    prefix = f"MDV.{protocol}."
    if mdv is not None:
        _check_design(mdv, file)
    if not mdv_oid.startswith(prefix):
        raise OdmFileError(file, 0, "/ODM/Study/MetaDataVersion/@OID", mdv_oid,
                           f"must be {prefix}<protocol version>")  # fmt: skip
    rows = [ImportRow("studies", f"{file}: /ODM/Study", 1, {
        "study": code, "title": variables.findtext(f"{_Q}StudyDescription") or "",
        "protocol": protocol, "protocol_version": mdv_oid[len(prefix):]})]  # fmt: skip
    admin = root.find(f"{_Q}AdminData")
    for number, location in enumerate(() if admin is None else
                                      admin.iterfind(f"{_Q}Location"), start=1):  # fmt: skip
        if location.get("LocationType") == "Site":
            rows.append(ImportRow("sites", f"{file}: /ODM/AdminData/Location", number, {
                "study": code, "site": location.get("OID", "")[4:],
                "name": location.get("Name", "")}))  # fmt: skip
    return code, rows


def _provenance(root: ET.Element) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for number, user in enumerate(root.iterfind(f"{_Q}AdminData/{_Q}User"), start=1):
        payload = {
            "oid": user.get("OID"),
            "login": user.findtext(f"{_Q}LoginName"),
            "display": user.findtext(f"{_Q}DisplayName"),
            "type": user.get("UserType"),
        }
        kept.append({"kind": "user", "position": number, "oid": payload["oid"],
                     "payload": payload})  # fmt: skip
    records = root.iterfind(f"{_Q}ClinicalData/{_Q}AuditRecords/{_Q}AuditRecord")
    for number, record in enumerate(records, start=1):
        user_ref = record.find(f"{_Q}UserRef")
        location = record.find(f"{_Q}LocationRef")
        payload = {"id": record.get("ID"),
                   "user": None if user_ref is None else user_ref.get("UserOID"),
                   "location": None if location is None else location.get("LocationOID"),
                   "at": record.findtext(f"{_Q}DateTimeStamp"),
                   "reason": record.findtext(f"{_Q}ReasonForChange"),
                   "source": record.findtext(f"{_Q}SourceID")}  # fmt: skip
        kept.append({"kind": "audit", "position": number, "oid": payload["id"] or "",
                     "payload": payload})  # fmt: skip
    return kept


_PRINTED: Final = "Electronic signature; printed name: "


def _sign(uow: UnitOfWork, root: Any, reader: _Reader, file: str) -> None:
    """Restore each visit signature of the file (after the visit's forms are written)."""
    logins = {u.get("OID"): u.findtext(f"{_Q}LoginName")
              for u in root.iterfind(f"{_Q}AdminData/{_Q}User")}  # fmt: skip
    definitions = {}
    for definition in root.iterfind(f"{_Q}AdminData/{_Q}SignatureDef"):
        legal = definition.findtext(f"{_Q}LegalReason") or ""
        definitions[definition.get("OID")] = (definition.findtext(f"{_Q}Meaning") or "",
                                              legal.removeprefix(_PRINTED))  # fmt: skip
    for code, day, user, oid, stamp, where in reader.signatures:
        if oid not in definitions or not logins.get(user):
            raise OdmFileError(
                file,
                0,
                where,
                oid or user,
                "names no SignatureDef or User with a LoginName of AdminData",
            )
        try:
            signed_at = dt.datetime.fromisoformat(stamp)
        except ValueError:
            raise OdmFileError(file, 0, f"{where}/DateTimeStamp", stamp,
                               "must be an ISO 8601 date and time") from None  # fmt: skip
        visit = uow.connection.execute(
            select(Visit.id, Visit.version).join(Patient, Patient.id == Visit.patient_id)
            .where(Patient.study_code == code, Visit.visit_date == dt.date.fromisoformat(day))
        ).one()  # fmt: skip
        meaning, printed = definitions[oid]
        uow.update("visits", visit.id, {"status": "signed", "signed_by": logins[user],
                                        "signed_at": signed_at, "signed_name": printed,
                                        "sign_meaning": meaning},
                   expected_version=visit.version, reason=f"signature imported: {meaning}",
                   system=True)  # fmt: skip


def import_odm(uow: UnitOfWork, path: Path | str) -> int:
    """Import an ODM file written by ``cletrial export --format odm`` into an empty database.

    All in ``uow``: on any error the caller's unit of work rolls back and nothing is saved.
    Returns the number of records created.

    Raises
    ------
    ImportFileError
        Malformed XML, not valid ODM 1.3.2, an unknown OID, or a value a store rule refuses
        (the message names the element path, the OID and the value).
    InputError
        The database already holds a study.
    """
    name = str(path)
    root = validate_odm(name)
    existing = uow.connection.exec_driver_sql("SELECT code FROM studies").first()
    if existing is not None:
        raise InputError("database", existing[0], "an ODM import needs an empty database "
                         "(it holds a study already)")  # fmt: skip
    code, rows = _study_rows(root, name)
    reader = _Reader(name, code)
    for subject in root.iterfind(f"{_Q}ClinicalData/{_Q}SubjectData"):
        reader.subject(subject)
    result = apply_rows(uow, rows + reader.rows, reason=None)
    _sign(uow, root, reader, name)
    for kept in _provenance(root):
        uow.insert(
            "odm_provenance", {**kept, "payload": json.dumps(kept["payload"], sort_keys=True)}
        )
    return result.created


def import_odm_file(engine: Engine, path: Path | str, *, user: str, dry_run: bool = False) -> int:
    """Import an ODM file in its own unit of work (rolled back for a dry run); return records
    created.

    >>> import tempfile, pathlib
    >>> from cletrial.store import create_engine_for, upgrade
    >>> engine = create_engine_for("sqlite://"); upgrade(engine)
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad.xml"; _ = bad.write_text("<ODM")
    >>> import_odm_file(engine, bad, user="dm")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cletrial.store.odm.importer.OdmFileError: .../bad.xml, / = None: not well-formed XML: ...
    """
    with UnitOfWork(engine, user=user, dry_run=dry_run) as uow:
        return import_odm(uow, path)
