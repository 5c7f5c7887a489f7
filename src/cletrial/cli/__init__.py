"""The ``cletrial`` command line.

Each group of commands lives in its own module and registers itself on :data:`app`. Command
modules import only Typer at module level; everything heavy is imported inside the command, so
``cletrial --help`` stays fast.
"""

from __future__ import annotations

import typer

from cletrial.cli import (
    analysis_commands,
    design_commands,
    endpoint_commands,
    evidence_commands,
    instrument_commands,
    monitoring_commands,
    protocol_commands,
    randomisation_commands,
    schema_command,
    simulate_commands,
    standards_commands,
    store_commands,
    user_commands,
    web_commands,
)

app = typer.Typer(
    name="cletrial",
    help=(
        "Run and analyse trials of lenalidomide in refractory cutaneous lupus erythematosus.\n\n"
        "Decision support: every recommendation comes with its rule and data; a clinician decides."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

for _module in (
    instrument_commands,
    schema_command,
    protocol_commands,
    store_commands,
    user_commands,
    monitoring_commands,
    randomisation_commands,
    endpoint_commands,
    analysis_commands,
    evidence_commands,
    design_commands,
    standards_commands,
    simulate_commands,
    web_commands,
):
    _module.register(app)


def main() -> None:
    """Entry point of the ``cletrial`` console script."""
    app()
