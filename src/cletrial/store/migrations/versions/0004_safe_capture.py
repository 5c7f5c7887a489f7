"""safe data capture: study time zone, lab standard values, visit links, dispositions, overrides

Adds what the capture rules need (issue "safe data capture"):

- ``studies.time_zone``: the study's IANA zone, whose "today" bounds every date entered;
- ``labs.std_value``, ``labs.std_unit`` (the value in the test's canonical unit, CDISC
  LBSTRESN/LBSTRESU) and ``labs.value_confirmed`` (an improbable value confirmed on entry);
  existing results are left without a standard value until they are next saved, never guessed;
- ``visits.signed_name``, ``visits.sign_meaning``: the signature manifest;
- ``visit_id`` on doses, adverse events and pregnancy tests, so that signing a visit locks
  everything recorded at it; ``pregnancy_tests.method`` (serum or urine);
- tables ``dispositions`` (end of treatment, end of study, CDISC NCOMPLT reason),
  ``enrolment_overrides`` (an investigator's e-signed decision to treat without an eligible
  verdict), ``immunology_results`` (ANA, anti-ENA, antiphospholipid antibodies),
  ``nerve_conduction_studies`` and ``concomitant_medications`` (with dates).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINKED = ("doses", "adverse_events", "pregnancy_tests")


def upgrade() -> None:
    """Add the columns and tables."""
    op.add_column("studies", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.add_column("labs", sa.Column("std_value", sa.Float(), nullable=True))
    op.add_column("labs", sa.Column("std_unit", sa.String(length=12), nullable=True))
    op.add_column("labs", sa.Column("value_confirmed", sa.Boolean(), nullable=True))
    op.add_column("visits", sa.Column("signed_name", sa.String(length=200), nullable=True))
    op.add_column("visits", sa.Column("sign_meaning", sa.String(length=200), nullable=True))
    op.add_column("pregnancy_tests", sa.Column("method", sa.String(length=10), nullable=True))
    for table in _LINKED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("visit_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                op.f(f"fk_{table}_visit_id_visits"), "visits", ["visit_id"], ["id"]
            )
            batch.create_index(op.f(f"ix_{table}_visit_id"), ["visit_id"], unique=False)
    op.create_table(
        "dispositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("disposition_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("last_dose_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_dispositions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispositions")),
        sa.UniqueConstraint("patient_id", "kind", name=op.f("uq_dispositions_patient_id_kind")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "enrolment_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("override_date", sa.Date(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("signed_by", sa.String(length=80), nullable=False),
        sa.Column("signed_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_enrolment_overrides_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_overrides")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_enrolment_overrides_patient_id")),
        sqlite_autoincrement=True,
    )
    _record_tables()


def _record_tables() -> None:
    """Immunology panel results, nerve conduction studies, concomitant medications."""
    tables: tuple[tuple[str, list[sa.Column[Any]], tuple[str, ...]], ...] = (
        ("immunology_results", [sa.Column("sample_date", sa.Date(), nullable=False),
                                sa.Column("test", sa.String(length=20), nullable=False),
                                sa.Column("result", sa.String(length=14), nullable=False)],
         ("patient_id", "sample_date", "test")),
        ("nerve_conduction_studies", [sa.Column("study_date", sa.Date(), nullable=False),
                                      sa.Column("result", sa.String(length=10), nullable=False),
                                      sa.Column("note", sa.Text(), nullable=True)],
         ("patient_id", "study_date")),
    )  # fmt: skip
    for table, columns, unique in tables:
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
            sa.Column("patient_id", sa.Integer(), nullable=False),
            sa.Column("visit_id", sa.Integer(), nullable=True),
            *columns,
            sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                    name=op.f(f"fk_{table}_patient_id_patients")),
            sa.ForeignKeyConstraint(["visit_id"], ["visits.id"],
                                    name=op.f(f"fk_{table}_visit_id_visits")),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint(*unique, name=op.f(f"uq_{table}_{'_'.join(unique)}")),
            sqlite_autoincrement=True,
        )  # fmt: skip
        op.create_index(op.f(f"ix_{table}_visit_id"), table, ["visit_id"], unique=False)
    op.create_table(
        "concomitant_medications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("baseline", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name=op.f("fk_concomitant_medications_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concomitant_medications")),
        sa.UniqueConstraint("patient_id", "name", "start_date",
                            name=op.f("uq_concomitant_medications_patient_id_name_start_date")),
        sqlite_autoincrement=True,
    )  # fmt: skip


def downgrade() -> None:
    """Drop the tables and columns (their values stay in the audit trail)."""
    for table in ("concomitant_medications", "nerve_conduction_studies", "immunology_results"):
        op.drop_table(table)
    op.drop_table("enrolment_overrides")
    op.drop_table("dispositions")
    for table in _LINKED:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(op.f(f"ix_{table}_visit_id"))
            batch.drop_constraint(op.f(f"fk_{table}_visit_id_visits"), type_="foreignkey")
            batch.drop_column("visit_id")
    op.drop_column("pregnancy_tests", "method")
    for column in ("sign_meaning", "signed_name"):
        op.drop_column("visits", column)
    for column in ("value_confirmed", "std_unit", "std_value"):
        op.drop_column("labs", column)
    op.drop_column("studies", "time_zone")
