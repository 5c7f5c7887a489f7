"""The OIDs Define-XML and Dataset-JSON share, so a Dataset-JSON column names its ItemDef.

>>> item_group_oid("DM"), item_oid("DM", "AGE"), method_oid("ADSL", "TRTSDT")
('IG.DM', 'IT.DM.AGE', 'MT.ADSL.TRTSDT')
"""

from __future__ import annotations

__all__ = ["codelist_oid", "item_group_oid", "item_oid", "leaf_id", "method_oid"]


def item_group_oid(dataset: str) -> str:
    """OID of a dataset's ``ItemGroupDef``."""
    return f"IG.{dataset}"


def item_oid(dataset: str, variable: str) -> str:
    """OID of a variable's ``ItemDef``."""
    return f"IT.{dataset}.{variable}"


def method_oid(dataset: str, variable: str) -> str:
    """OID of a derived variable's ``MethodDef``."""
    return f"MT.{dataset}.{variable}"


def codelist_oid(codelist: str) -> str:
    """OID of a ``CodeList``."""
    return f"CL.{codelist}"


def leaf_id(dataset: str) -> str:
    """ID of the ``def:leaf`` pointing at a dataset's transport file."""
    return f"LF.{dataset}"
