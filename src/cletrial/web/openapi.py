"""The OpenAPI document: FastAPI's, plus the instruments' own form schemas and bearer auth.

The CLASI and SLEDAI-2K forms are defined once, in :mod:`cletrial.instruments` (msgspec); their
JSON Schemas are copied into ``components.schemas`` so that API bodies typed
``clasi_form_field`` / ``sledai_form_field`` point at the real definition.

>>> rewrite_refs({"$ref": "#/$defs/ClasiRegions"})
{'$ref': '#/components/schemas/ClasiRegions'}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from cletrial.instruments import clasi_json_schema, sledai_json_schema

__all__ = ["install_openapi", "instrument_components", "rewrite_refs"]


def rewrite_refs(node: Any) -> Any:
    """Point JSON Schema ``#/$defs/X`` references at ``#/components/schemas/X``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = "#/components/schemas/" + value.removeprefix("#/$defs/")
            else:
                out[key] = rewrite_refs(value)
        return out
    if isinstance(node, list):
        return [rewrite_refs(v) for v in node]
    return node


def instrument_components() -> dict[str, Any]:
    """The component schemas of the CLASI and SLEDAI-2K forms.

    >>> sorted(instrument_components())
    ['ClasiForm', 'ClasiRegions', 'RegionItems', 'ScalpItems', 'SledaiForm']
    """
    out: dict[str, Any] = {}
    for schema in (clasi_json_schema(), sledai_json_schema()):
        out.update(rewrite_refs(schema["$defs"]))
    return out


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with a generator adding the instrument schemas and bearer auth."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(instrument_components())
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "token from login"}
        }
        schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
