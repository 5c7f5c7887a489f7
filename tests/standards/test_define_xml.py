"""Define-XML 2.1: valid against the XSD odmlib ships, references resolve, golden bytes."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.standards.golden_package import DEFINE_STUDY, GOLDEN, WHEN, write_package
from tests.standards.package import adsl, dm, lb

from cletrial.errors import StandardsError
from cletrial.standards.define_check import structure_problems, validate_define_xml
from cletrial.standards.define_xml import define_xml
from cletrial.standards.metadata import Dataset

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}


def _root(*datasets: Dataset) -> ET.Element:
    return ET.fromstring(define_xml(list(datasets), DEFINE_STUDY, created=WHEN))


def test_golden_package_bytes(tmp_path: Path) -> None:
    """Regenerate with ``PYTHONPATH=src python3 -m tests.standards.golden_package``."""
    for path in write_package(tmp_path):
        assert path.read_bytes() == (GOLDEN / path.name).read_bytes(), path.name


def test_sdtm_and_adam_items_methods_and_codelists() -> None:
    root = _root(dm(), adsl())
    dm_group = root.find(".//odm:ItemGroupDef[@OID='IG.DM']", NS)
    assert dm_group is not None
    assert dm_group.get(f"{{{NS['def']}}}Structure") == "One record per subject"
    assert dm_group.find("def:leaf", NS).get("{http://www.w3.org/1999/xlink}href") == "dm.xpt"
    assert dm_group.find("def:Class", NS).get("Name") == "SPECIAL PURPOSE"
    refs = {r.get("ItemOID"): r.attrib for r in dm_group.findall("odm:ItemRef", NS)}
    assert refs["IT.DM.USUBJID"]["KeySequence"] == "2"
    assert refs["IT.DM.USUBJID"]["Role"] == "Identifier"
    assert refs["IT.DM.RFSTDTC"]["MethodOID"] == "MT.DM.RFSTDTC"
    method = root.find(".//odm:MethodDef[@OID='MT.ADSL.TRTSDT']", NS)
    assert method.find("odm:Description/odm:TranslatedText", NS).text == (
        "RFSTDTC of DM as a SAS date."
    )
    trtsdt = root.find(".//odm:ItemDef[@OID='IT.ADSL.TRTSDT']", NS)
    assert (trtsdt.get("DataType"), trtsdt.get(f"{{{NS['def']}}}DisplayFormat")) == (
        "integer",
        "DATE9.",
    )
    assert root.find(".//odm:ItemDef[@OID='IT.DM.SITENM']", NS).get("Length") == "40"
    origin = root.find(".//odm:ItemDef[@OID='IT.ADSL.USUBJID']/def:Origin", NS)
    assert origin.get("Type") == "Predecessor"
    sex = root.find(".//odm:CodeList[@OID='CL.SEX']", NS)
    items = sex.findall("odm:CodeListItem", NS)
    assert [(i.get("CodedValue"), i.find("odm:Decode/odm:TranslatedText", NS).text,
             i.find("odm:Alias", NS).get("Name")) for i in items] == [
        ("F", "Female", "C16576"), ("M", "Male", "C20197")]  # fmt: skip
    assert root.find(".//odm:ItemGroupDef[@OID='IG.ADSL']", NS).get("Repeating") == "No"


def test_value_level_metadata_for_a_findings_dataset() -> None:
    root = _root(lb())
    value_list = root.find(".//def:ValueListDef[@OID='VL.LB.LBORRES']", NS)
    refs = value_list.findall("odm:ItemRef", NS)
    assert [r.get("ItemOID") for r in refs] == ["IT.LB.LBORRES.NEUT", "IT.LB.LBORRES.PLAT"]
    assert refs[1].get("MethodOID") == "MT.LB.LBORRES.PLAT"
    where = root.find(".//def:WhereClauseDef[@OID='WC.LB.LBTESTCD.NEUT']/odm:RangeCheck", NS)
    assert where.get(f"{{{NS['def']}}}ItemOID") == "IT.LB.LBTESTCD"
    assert where.find("odm:CheckValue", NS).text == "NEUT"
    parent = root.find(".//odm:ItemDef[@OID='IT.LB.LBORRES']/def:ValueListRef", NS)
    assert parent.get("ValueListOID") == "VL.LB.LBORRES"
    assert root.find(".//odm:ItemDef[@OID='IT.LB.LBORRES.NEUT']", NS).get("DataType") == "float"


def test_the_output_passes_the_xsd_and_a_broken_one_fails() -> None:
    xml = define_xml([dm(), adsl(), lb()], DEFINE_STUDY, created=WHEN)
    validate_define_xml(xml)
    broken = xml.replace(b'def:DefineVersion="2.1.0"', b"")
    with pytest.raises(StandardsError, match="DefineVersion"):
        validate_define_xml(broken)


BROKEN = {
    "item": ('ItemDef OID="IT.DM.AGE"', 'ItemDef OID="IT.DM.AGX"',
             'ItemOID="IT.DM.AGE" (in IG.DM) has no ItemDef'),
    "codelist": ('CodeList OID="CL.SEX"', 'CodeList OID="CL.SEY"',
                 'CodeListOID="CL.SEX" (in IT.DM.SEX) has no CodeList'),
    "method": ('MethodDef OID="MT.DM.RFSTDTC"', 'MethodDef OID="MT.DM.X"',
               'MethodOID="MT.DM.RFSTDTC" (in IG.DM) has no MethodDef'),
    "duplicate": ('ItemDef OID="IT.ADSL.SAFFL"', 'ItemDef OID="IT.ADSL.TRTSDT"',
                  "ItemDef OID='IT.ADSL.TRTSDT' appears 2 times"),
}  # fmt: skip


@pytest.mark.parametrize(("old", "new", "problem"), BROKEN.values(), ids=BROKEN.keys())
def test_structural_checks_catch_each_broken_reference(old: str, new: str, problem: str) -> None:
    xml = define_xml([dm(), adsl()], DEFINE_STUDY, created=WHEN)
    assert structure_problems(xml) == []
    assert old.encode() in xml
    problems = structure_problems(xml.replace(old.encode(), new.encode(), 1))
    assert any(problem in p for p in problems), problems


def test_unknown_codelist_and_naive_time_are_refused() -> None:
    spec = dm().spec
    variables = [dataclasses.replace(v, codelist="NOSUCH") if v.name == "SEX" else v
                 for v in spec.variables]  # fmt: skip
    bad = Dataset(dataclasses.replace(spec, variables=tuple(variables)), dm().frame)
    with pytest.raises(StandardsError, match="codelist 'NOSUCH' is not in"):
        define_xml([bad], DEFINE_STUDY, created=WHEN)
    with pytest.raises(StandardsError, match="give a time zone"):
        define_xml([dm()], DEFINE_STUDY, created=WHEN.replace(tzinfo=None))
