"""The Define-XML XSD check (lxml): each kind of schema error is named, with its line."""

from __future__ import annotations

import pytest
from tests.standards.golden_package import DEFINE_STUDY, WHEN
from tests.standards.package import adsl, dm, lb

from cletrial.errors import StandardsError
from cletrial.standards.define_check import validate_define_xml
from cletrial.standards.define_xml import define_xml

BROKEN = {
    "missing-attribute": (b'def:DefineVersion="2.1.0"', b"",
                          r"line 2: .*MetaDataVersion.*DefineVersion' is required"),
    "unknown-attribute": (b'<ItemGroupDef OID="IG.DM"', b'<ItemGroupDef Bogus="1" OID="IG.DM"',
                          r"ItemGroupDef', attribute 'Bogus': The attribute 'Bogus' is not"),
    "bad-enumeration": (b'DataType="integer"', b'DataType="int"',
                        r"DataType': \[facet 'enumeration'\] The value 'int' is not"),
    "not-well-formed": (b"</ODM>", b"</OD>", r"Define-XML is not well-formed XML: "),
}  # fmt: skip


def test_the_written_document_is_valid() -> None:
    validate_define_xml(define_xml([dm(), adsl(), lb()], DEFINE_STUDY, created=WHEN))


@pytest.mark.parametrize(("old", "new", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_each_schema_error_is_named(old: bytes, new: bytes, message: str) -> None:
    xml = define_xml([dm(), adsl(), lb()], DEFINE_STUDY, created=WHEN)
    assert old in xml
    with pytest.raises(StandardsError, match=message):
        validate_define_xml(xml.replace(old, new, 1))
