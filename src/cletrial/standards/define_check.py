"""Check a Define-XML 2.1 document: against the Define-XML 2.1 XSD odmlib ships (with lxml, that
is libxml2: the schema compiles in milliseconds, once a process), and structurally (OIDs unique
per kind; every ItemRef, CodeListRef, MethodOID, ValueListRef, WhereClauseRef, range-check item,
leaf and standard reference resolves).

>>> structure_problems(b'<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study><MetaDataVersion>'
...     b'<ItemGroupDef OID="IG.DM"><ItemRef ItemOID="IT.DM.AGE"/></ItemGroupDef>'
...     b'</MetaDataVersion></Study></ODM>')
['ItemRef ItemOID="IT.DM.AGE" (in IG.DM) has no ItemDef']
"""

from __future__ import annotations

import functools
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Final

import odmlib
from lxml import etree

from cletrial.errors import StandardsError

__all__ = ["DEFINE_XSD", "structure_problems", "validate_define_xml"]

#: The Define-XML 2.1 schema odmlib ships.
DEFINE_XSD: Final = Path(odmlib.__file__).parent / "schemas" / "define" / "2.1" / "define2-1-0.xsd"
_ODM: Final = "{http://www.cdisc.org/ns/odm/v1.3}"
_DEF: Final = "{http://www.cdisc.org/ns/def/v2.1}"

# (element that defines, attribute), and the references to it: (element, attribute).
_KINDS: Final = {
    "ItemDef": ((f"{_ODM}ItemDef", "OID"), [(f"{_ODM}ItemRef", "ItemOID"),
                                            (f"{_ODM}RangeCheck", f"{_DEF}ItemOID")]),
    "ItemGroupDef": ((f"{_ODM}ItemGroupDef", "OID"), []),
    "CodeList": ((f"{_ODM}CodeList", "OID"), [(f"{_ODM}CodeListRef", "CodeListOID")]),
    "MethodDef": ((f"{_ODM}MethodDef", "OID"), [(f"{_ODM}ItemRef", "MethodOID")]),
    "ValueListDef": ((f"{_DEF}ValueListDef", "OID"), [(f"{_DEF}ValueListRef", "ValueListOID")]),
    "WhereClauseDef": ((f"{_DEF}WhereClauseDef", "OID"),
                       [(f"{_DEF}WhereClauseRef", "WhereClauseOID")]),
    "leaf": ((f"{_DEF}leaf", "ID"), [(f"{_ODM}ItemGroupDef", f"{_DEF}ArchiveLocationID")]),
    "Standard": ((f"{_DEF}Standard", "OID"), [(f"{_ODM}ItemGroupDef", f"{_DEF}StandardOID"),
                                              (f"{_ODM}CodeList", f"{_DEF}StandardOID")]),
}  # fmt: skip


_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
#: A compiled schema keeps the errors of its last validation: one validation at a time.
_VALIDATING: Final = threading.Lock()


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DEFINE_XSD), _PARSER))


def _xsd_errors(xml: bytes) -> list[str]:
    try:
        document = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise StandardsError(f"Define-XML is not well-formed XML: {exc}") from None
    schema = _schema()
    with _VALIDATING:
        if schema.validate(document):
            return []
        return [f"line {e.line}: {e.message}" for e in schema.error_log]


def _short(tag: str) -> str:
    return tag.rpartition("}")[2]


def structure_problems(xml: bytes) -> list[str]:
    """Problems of a Define-XML document's structure, as sentences; empty when sound."""
    root = ET.fromstring(xml)
    parents = {child: parent for parent in root.iter() for child in parent}
    problems: list[str] = []
    for kind, ((tag, attribute), references) in _KINDS.items():
        defined = Counter(e.get(attribute) for e in root.iter(tag))
        problems += [f"{kind} {attribute}={oid!r} appears {n} times"
                     for oid, n in defined.items() if n > 1]  # fmt: skip
        for ref_tag, ref_attribute in references:
            for element in root.iter(ref_tag):
                target = element.get(ref_attribute)
                if target is None or target in defined:
                    continue
                owner = element if element.get("OID") else parents.get(element)
                where = owner.get("OID") if owner is not None else None
                problems.append(f'{_short(ref_tag)} {_short(ref_attribute)}="{target}" '
                                f"(in {where}) has no {kind}")  # fmt: skip
    return problems


def validate_define_xml(xml: bytes) -> None:
    """Raise :class:`~cletrial.errors.StandardsError` unless ``xml`` is valid Define-XML 2.1
    (XSD) and structurally sound, naming each problem."""
    errors = _xsd_errors(xml)
    problems = errors[:20] + structure_problems(xml)
    if problems:
        raise StandardsError(
            "Define-XML is not valid (" + "; ".join(problems[:20]) + "); correct the dataset "
            "metadata (DatasetSpec, Variable, ValueLevel) it was built from"
        )
