"""``cletrial schema NAME``: print the JSON Schema of an input format."""

from __future__ import annotations

import importlib
import json
from enum import StrEnum

import typer


class SchemaName(StrEnum):
    """The input formats that have a published JSON Schema."""

    clasi = "clasi"
    sledai = "sledai"
    screening = "screening"
    history = "history"
    protocol = "protocol"


#: name -> "module:function" returning the schema as a dict; imported only when asked for.
SCHEMA_SOURCES: dict[str, str] = {
    "clasi": "cletrial.instruments.clasi:clasi_json_schema",
    "sledai": "cletrial.instruments.sledai:sledai_json_schema",
    "screening": "cletrial.protocol.screening:screening_json_schema",
    "history": "cletrial.protocol.history:history_json_schema",
    "protocol": "cletrial.protocol.definition:protocol_json_schema",
}


def load_schema(name: str) -> dict[str, object]:
    """Return the JSON Schema called ``name`` (one of :data:`SCHEMA_SOURCES`)."""
    module_name, func_name = SCHEMA_SOURCES[name].split(":")
    schema: dict[str, object] = getattr(importlib.import_module(module_name), func_name)()
    return schema


def schema(name: SchemaName = typer.Argument(..., help="Which input format.")) -> None:
    """Print the JSON Schema of an input format (CLASI form, SLEDAI-2K form, screening record,
    patient history or protocol definition), for validating files before submitting them."""
    typer.echo(json.dumps(load_schema(name.value), indent=2, sort_keys=True))


def register(app: typer.Typer) -> None:
    """Add ``schema`` to ``app``."""
    app.command("schema")(schema)
