"""Define-XML 2.1 for a set of SDTM or ADaM datasets, built with odmlib and checked before it
is written: against the Define-XML 2.1 XSD odmlib ships (lxml) and structurally (every
reference resolves, OIDs unique; :mod:`cletrial.standards.define_check`).

From each :class:`~cletrial.standards.metadata.DatasetSpec`: an ``ItemGroupDef`` (class,
structure, ``def:leaf`` to the ``.xpt``), ``ItemRef`` with key sequence, mandatory, role and
method; from each variable an ``ItemDef`` (data type from the table in
:mod:`cletrial.standards.metadata`, length, origin, codelist, ``DATE9.`` for SAS dates); a
``MethodDef`` with the derivation text of every derived variable; a ``CodeList`` from the
vocabulary for every codelist used (decode, NCI code as ``Alias``); value-level metadata from
``DatasetSpec.value_level``. The output has no time in it but the ``created`` passed in, so
the same datasets give the same bytes.

>>> import datetime as dt, pandas as pd
>>> from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
>>> spec = DatasetSpec("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
...     ("USUBJID",), (Variable("USUBJID", "Unique Subject Identifier", "text"),
...     Variable("SEX", "Sex", "text", codelist="SEX")), "SDTMIG 3.4")
>>> study = DefineStudy("ST.S1", "S1", "A study", "S1-PROTOCOL")
>>> xml = define_xml([Dataset(spec, pd.DataFrame({"USUBJID": ["S1-1"], "SEX": ["F"]}))], study,
...                  created=dt.datetime(2026, 12, 3, tzinfo=dt.timezone.utc))
>>> b'<ItemGroupDef OID="IG.DM" Name="DM"' in xml
True
>>> b'<Alias Context="nci:ExtCodeID" Name="C66731"' in xml
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import odmlib.define_2_1.model as DEF  # noqa: N812 - odmlib's own spelling

from cletrial.errors import StandardsError
from cletrial.files import replace_atomically
from cletrial.standards.define_check import validate_define_xml
from cletrial.standards.metadata import CT_VERSION, Dataset, ValueLevel, Variable
from cletrial.standards.oids import codelist_oid, item_group_oid, item_oid, leaf_id, method_oid
from cletrial.vocabulary import CODELISTS, Codelist

__all__ = ["DefineStudy", "define_xml", "write_define_xml"]

#: Define-XML ``DataType`` of each variable type (see :mod:`cletrial.standards.metadata`).
DATA_TYPE: Final = {
    "text": "text", "integer": "integer", "float": "float", "iso8601": "date",
    "sas_date": "integer",
}  # fmt: skip
_SOURCE: Final = {"Collected": "Investigator", "Derived": "Sponsor", "Assigned": "Sponsor"}


@dataclass(frozen=True)
class DefineStudy:
    """The study a Define-XML describes.

    ``ct_version`` is the CDISC Controlled Terminology package the vocabulary's NCI codes are
    taken from (the ``def:Standard`` of type ``CT``).
    """

    oid: str
    name: str
    description: str
    protocol: str
    ct_version: str = CT_VERSION
    originator: str = "cletrial"
    source_system: tuple[str, str] = ("cletrial", "0.1.0")


def _text(value: str) -> DEF.Description:
    return DEF.Description(TranslatedText=[DEF.TranslatedText(_content=value, lang="en")])


def _standards(
    datasets: Sequence[Dataset], ct_version: str
) -> tuple[DEF.Standards, dict[str, str]]:
    """``def:Standards`` for the IGs the datasets name, plus CDISC CT; IG name -> OID."""
    oids: dict[str, str] = {}
    items: list[DEF.Standard] = []
    for standard in dict.fromkeys(d.spec.standard for d in datasets):
        name, _, version = standard.partition(" ")
        if name not in ("SDTMIG", "ADaMIG") or not version:
            raise StandardsError(f"standard {standard!r}: expected 'SDTMIG 3.4' or 'ADaMIG 1.3'")
        oids[standard] = f"STD.{name}.{version.replace('.', '-')}"
        items.append(DEF.Standard(OID=oids[standard], Name=name, Type="IG", Version=version,
                                  Status="Final"))  # fmt: skip
    for publishing in dict.fromkeys("SDTM" if s.startswith("SDTM") else "ADaM" for s in oids):
        oids[f"CT {publishing}"] = f"STD.CT.{publishing}"
        items.append(
            DEF.Standard(
                OID=f"STD.CT.{publishing}",
                Name="CDISC/NCI",
                Type="CT",
                PublishingSet=publishing,
                Version=ct_version,
                Status="Final",
            )
        )
    return DEF.Standards(Standard=items), oids


def _item_group(dataset: Dataset, standard_oid: str) -> DEF.ItemGroupDef:
    spec = dataset.spec
    sdtm = spec.standard.startswith("SDTM")
    attributes: dict[str, Any] = {
        "OID": item_group_oid(spec.name), "Name": spec.name,
        "Repeating": "No" if spec.structure.lower() == "one record per subject" else "Yes",
        "IsReferenceData": "Yes" if spec.domain_class == "TRIAL DESIGN" else "No",
        "SASDatasetName": spec.name,
    }  # fmt: skip
    if sdtm:
        attributes["Domain"] = spec.name[4:] if spec.name.startswith("SUPP") else spec.name
    group = DEF.ItemGroupDef(
        **attributes, Purpose="Tabulation" if sdtm else "Analysis", Structure=spec.structure,
        ArchiveLocationID=leaf_id(spec.name), StandardOID=standard_oid,
    )  # fmt: skip
    group.Description = _text(spec.label)
    for number, var in enumerate(spec.variables, start=1):
        ref = DEF.ItemRef(
            ItemOID=item_oid(spec.name, var.name),
            OrderNumber=number,
            Mandatory="Yes" if var.core == "Req" or var.name in spec.keys else "No",
        )
        if var.name in spec.keys:
            ref.KeySequence = spec.keys.index(var.name) + 1
        if var.origin == "Derived":
            ref.MethodOID = method_oid(spec.name, var.name)
        if sdtm and var.role:
            ref.Role = var.role
        group.ItemRef.append(ref)
    group.Class = DEF.Class(Name=spec.domain_class)
    file_name = f"{spec.name.lower()}.xpt"
    title = DEF.title(_content=file_name)
    group.leaf = DEF.leaf(ID=leaf_id(spec.name), href=file_name, title=title)
    return group


def _origin(origin: str, source: str | None) -> DEF.Origin:
    element = DEF.Origin(Type=origin)
    if origin in _SOURCE:
        element.Source = _SOURCE[origin]
    if origin == "Predecessor" and source:
        element.Description = _text(source)
    return element


def _item_def(oid: str, var: Variable | ValueLevel, length: int, label: str) -> DEF.ItemDef:
    item = DEF.ItemDef(OID=oid, Name=var.variable if isinstance(var, ValueLevel) else var.name,
                       DataType=DATA_TYPE[var.type], Length=length)  # fmt: skip
    if isinstance(var, Variable):
        item.SASFieldName = var.name
    if var.type == "sas_date":
        item.DisplayFormat = "DATE9."
    item.Description = _text(label)
    if var.codelist:
        item.CodeListRef = DEF.CodeListRef(CodeListOID=codelist_oid(var.codelist))
    item.Origin = [_origin(var.origin, var.source if isinstance(var, Variable) else None)]
    return item


def _length(dataset: Dataset, var: Variable) -> int:
    return dataset.text_length(var.name) if var.type in ("text", "iso8601") else 8


def _method(oid: str, name: str, derivation: str) -> DEF.MethodDef:
    method = DEF.MethodDef(OID=oid, Name=f"Algorithm to derive {name}", Type="Computation")
    method.Description = _text(derivation)
    return method


def _value_lists(dataset: Dataset, mdv: DEF.MetaDataVersion) -> set[str]:
    """Add ValueListDef, WhereClauseDef, ItemDef and MethodDef of the value-level metadata;
    return the names of the variables that have a value list."""
    name = dataset.name
    lists: dict[str, DEF.ValueListDef] = {}
    clauses = {w.OID for w in mdv.WhereClauseDef}
    for vlm in dataset.spec.value_level:
        parent = dataset.spec.variable(vlm.variable)
        oid = f"{item_oid(name, vlm.variable)}.{vlm.value}"
        where = f"WC.{name}.{vlm.key}.{vlm.value}"
        if where not in clauses:
            clauses.add(where)
            check = DEF.RangeCheck(
                Comparator="EQ", SoftHard="Soft", ItemOID=item_oid(name, vlm.key),
                CheckValue=[DEF.CheckValue(_content=vlm.value)],
            )  # fmt: skip
            mdv.WhereClauseDef.append(DEF.WhereClauseDef(OID=where, RangeCheck=[check]))
        value_list = lists.setdefault(
            vlm.variable, DEF.ValueListDef(OID=f"VL.{name}.{vlm.variable}")
        )
        ref = DEF.ItemRef(
            ItemOID=oid,
            OrderNumber=len(value_list.ItemRef) + 1,
            Mandatory="No",
            WhereClauseRef=[DEF.WhereClauseRef(WhereClauseOID=where)],
        )
        length = vlm.length or _length(dataset, parent)
        mdv.ItemDef.append(_item_def(oid, vlm, length, vlm.label))
        if vlm.origin == "Derived" and vlm.derivation:
            ref.MethodOID = f"{method_oid(name, vlm.variable)}.{vlm.value}"
            mdv.MethodDef.append(_method(ref.MethodOID, f"{vlm.variable} ({vlm.value})",
                                         vlm.derivation))  # fmt: skip
        value_list.ItemRef.append(ref)
    mdv.ValueListDef.extend(lists.values())
    return set(lists)


def _codelist(codelist: Codelist, standard_oid: str) -> DEF.CodeList:
    element = DEF.CodeList(OID=codelist_oid(codelist.id), Name=codelist.name, DataType="text")
    if codelist.nci_code:
        element.StandardOID = standard_oid
    terms = list({t.submission: t for t in reversed(codelist.terms)}.values())[::-1]
    decoded = any(t.decode != t.submission for t in terms)
    for number, term in enumerate(terms, start=1):
        alias = [DEF.Alias(Context="nci:ExtCodeID", Name=term.nci_code)] if term.nci_code else []
        if decoded:
            item: Any = DEF.CodeListItem(CodedValue=term.submission, OrderNumber=number)
            item.Decode = DEF.Decode(
                TranslatedText=[DEF.TranslatedText(_content=term.decode, lang="en")]
            )
            item.Alias = alias
            element.CodeListItem.append(item)
        else:
            element.EnumeratedItem.append(DEF.EnumeratedItem(
                CodedValue=term.submission, OrderNumber=number, Alias=alias))  # fmt: skip
    if codelist.nci_code:
        element.Alias = [DEF.Alias(Context="nci:ExtCodeID", Name=codelist.nci_code)]
    return element


def _variables(dataset: Dataset, mdv: DEF.MetaDataVersion, used: dict[str, str]) -> None:
    with_lists = _value_lists(dataset, mdv)
    ct = "CT SDTM" if dataset.spec.standard.startswith("SDTM") else "CT ADaM"
    for var in dataset.spec.variables:
        item = _item_def(item_oid(dataset.name, var.name), var, _length(dataset, var), var.label)
        if var.name in with_lists:
            item.ValueListRef = DEF.ValueListRef(ValueListOID=f"VL.{dataset.name}.{var.name}")
        mdv.ItemDef.append(item)
        if var.origin == "Derived" and var.derivation:
            mdv.MethodDef.append(
                _method(
                    method_oid(dataset.name, var.name), f"{dataset.name}.{var.name}", var.derivation
                )
            )
    codelists = [v.codelist for v in dataset.spec.variables]
    codelists += [v.codelist for v in dataset.spec.value_level]
    for codelist in codelists:
        if codelist:
            used.setdefault(codelist, ct)


def _metadata_version(
    datasets: Sequence[Dataset], study: DefineStudy, checked: bool
) -> DEF.MetaDataVersion:
    kinds = "/".join(dict.fromkeys(d.spec.standard.split()[0] for d in datasets))
    mdv = DEF.MetaDataVersion(OID=f"MDV.{study.oid}", Name=f"{study.name} {kinds}",
                              DefineVersion="2.1.0")  # fmt: skip
    mdv.Standards, standard_oids = _standards(datasets, study.ct_version)
    used: dict[str, str] = {}
    for dataset in datasets:
        ready = dataset if checked else dataset.check()
        mdv.ItemGroupDef.append(_item_group(ready, standard_oids[ready.spec.standard]))
        _variables(dataset, mdv, used)
    for name, ct in used.items():
        if name not in CODELISTS:
            raise StandardsError(
                f"codelist {name!r} is not in cletrial.vocabulary.CODELISTS; "
                "add it there or correct the variable's codelist"
            )
        mdv.CodeList.append(_codelist(CODELISTS[name], standard_oids[ct]))
    return mdv


def define_xml(
    datasets: Sequence[Dataset], study: DefineStudy, *, created: dt.datetime, checked: bool = False
) -> bytes:
    """The Define-XML 2.1 document for ``datasets``, validated (XSD and structure).

    Parameters
    ----------
    datasets : sequence of Dataset
        SDTM and/or ADaM datasets, in the order they are listed; each is checked, unless
        ``checked``: the caller has checked them and not changed them since.
    study : DefineStudy
        Study OID, name, description and protocol.
    created : datetime
        ``ODM/@CreationDateTime`` (with time zone); the only time in the output.

    Raises
    ------
    cletrial.errors.StandardsError
        A dataset that fails its check, an unknown codelist, or a document that fails the XSD
        or the structural checks.
    """
    if created.tzinfo is None:
        raise StandardsError(f"created {created.isoformat()}: give a time zone (e.g. UTC)")
    odm = DEF.ODM(
        FileOID=f"DEF.{study.oid}", FileType="Snapshot", ODMVersion="1.3.2",
        CreationDateTime=created.isoformat(timespec="seconds"), Context="Submission",
        Originator=study.originator, SourceSystem=study.source_system[0],
        SourceSystemVersion=study.source_system[1],
    )  # fmt: skip
    odm.Study = DEF.Study(OID=study.oid)
    odm.Study.GlobalVariables = DEF.GlobalVariables(
        StudyName=DEF.StudyName(_content=study.name),
        StudyDescription=DEF.StudyDescription(_content=study.description),
        ProtocolName=DEF.ProtocolName(_content=study.protocol),
    )
    odm.Study.MetaDataVersion = _metadata_version(datasets, study, checked)
    xml = odm.to_xml_string(xml_declaration=True).encode("utf-8") + b"\n"
    validate_define_xml(xml)
    return xml


def write_define_xml(datasets: Sequence[Dataset], path: Path | str, study: DefineStudy, *,
                     created: dt.datetime, checked: bool = False) -> Path:  # fmt: skip
    """Write :func:`define_xml` to ``path`` atomically; return ``path``."""
    xml = define_xml(datasets, study, created=created, checked=checked)
    return replace_atomically(path, lambda temporary: temporary.write_bytes(xml))
