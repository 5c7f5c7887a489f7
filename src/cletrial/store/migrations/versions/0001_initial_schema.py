"""initial schema: studies, patients, visits, forms, audit trail

The audit trail is append-only from the first table on: triggers refuse UPDATE and DELETE on
``audit_log`` (and TRUNCATE on PostgreSQL); the chain head starts at the genesis hash, follows
every inserted audit row (a trigger) and can only move forward.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: prev_hash of the first audit row (a copy: migrations never import application code).
GENESIS_HASH = "0" * 64

_REGIONS = (
    "scalp", "ears", "nose", "rest_of_face", "v_neck", "posterior_neck_shoulders", "chest",
    "abdomen", "back_buttocks", "arms", "hands", "legs", "feet",
)  # fmt: skip
#: CLASI per-region item columns: erythema, scale, dyspigmentation (+ scarring, not on the scalp).
CLASI_REGION_COLUMNS = [
    f"{region}_{item}"
    for region in _REGIONS
    for item in ("erythema", "scale", "dyspigmentation", "scarring")
    if not (region == "scalp" and item == "scarring")
]
SLEDAI_COLUMNS = [
    "seizure", "psychosis", "organic_brain_syndrome", "visual_disturbance",
    "cranial_nerve_disorder", "lupus_headache", "cerebrovascular_accident", "vasculitis",
    "arthritis", "myositis", "urinary_casts", "hematuria", "proteinuria", "pyuria", "rash",
    "alopecia", "mucosal_ulcers", "pleurisy", "pericarditis", "low_complement",
    "increased_dna_binding", "fever", "thrombocytopenia", "leukopenia",
    "thrombocytopenia_drug_induced", "leukopenia_drug_induced",
]  # fmt: skip


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=6), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("txid", sa.String(length=32), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_record", "audit_log", ["table_name", "record_id"], unique=False)
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("protocol_id", sa.String(length=80), nullable=False),
        sa.Column("protocol_version", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        sa.UniqueConstraint("code", name=op.f("uq_studies_code")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_sites_study_id_studies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("study_id", "code", name=op.f("uq_sites_study_id_code")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_sites_study_id"), "sites", ["study_id"], unique=False)
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("study_code", sa.String(length=40), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("reproductive_potential", sa.Boolean(), nullable=True),
        sa.Column("irregular_cycles", sa.Boolean(), nullable=True),
        sa.Column("cle_subtype", sa.String(length=60), nullable=True),
        sa.Column("sle", sa.Boolean(), nullable=True),
        sa.Column("diagnosis_date", sa.String(length=10), nullable=True),
        sa.Column("first_dose_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_patients_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_patients_study_id_studies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("study_id", "study_code", name=op.f("uq_patients_study_id_study_code")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_patients_site_id"), "patients", ["site_id"], unique=False)
    op.create_index(op.f("ix_patients_study_id"), "patients", ["study_id"], unique=False)
    op.create_table(
        "user_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_user_sites_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sites_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sites")),
        sa.UniqueConstraint("user_id", "site_id", name=op.f("uq_user_sites_user_id_site_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_user_sites_site_id"), "user_sites", ["site_id"], unique=False)
    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("causality", sa.String(length=10), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("serious_criterion", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_adverse_events_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
        sa.UniqueConstraint(
            "patient_id",
            "term",
            "start_date",
            name=op.f("uq_adverse_events_patient_id_term_start_date"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "doses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("regimen", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_doses_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doses")),
        sa.UniqueConstraint(
            "patient_id", "start_date", name=op.f("uq_doses_patient_id_start_date")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "patient_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("event_type", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_events_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_events")),
        sa.UniqueConstraint(
            "patient_id",
            "event_date",
            "event_type",
            name=op.f("uq_patient_events_patient_id_event_date_event_type"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "patient_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("mrn", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_identities_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_identities")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_patient_identities_patient_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "pregnancy_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("test_date", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_pregnancy_tests_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pregnancy_tests")),
        sa.UniqueConstraint(
            "patient_id", "test_date", name=op.f("uq_pregnancy_tests_patient_id_test_date")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "screenings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("screening_date", sa.Date(), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_screenings_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenings")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_screenings_patient_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=True),
        sa.Column("medications", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("signed_by", sa.String(length=80), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_visits_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint(
            "patient_id", "visit_date", name=op.f("uq_visits_patient_id_visit_date")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_visits_one_baseline",
        "visits",
        ["patient_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'baseline'"),
        postgresql_where=sa.text("kind = 'baseline'"),
    )
    op.create_table(
        "clasi_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("entry", sa.String(length=6), nullable=False),
        sa.Column("activity", sa.SmallInteger(), nullable=False),
        sa.Column("damage", sa.SmallInteger(), nullable=False),
        sa.Column("activity_severity", sa.String(length=8), nullable=False),
        *[sa.Column(name, sa.SmallInteger(), nullable=True) for name in CLASI_REGION_COLUMNS],
        sa.Column("mucous_membrane_lesions", sa.SmallInteger(), nullable=True),
        sa.Column("recent_hair_loss", sa.SmallInteger(), nullable=True),
        sa.Column("nonscarring_alopecia", sa.SmallInteger(), nullable=True),
        sa.Column("scarring_alopecia", sa.SmallInteger(), nullable=True),
        sa.Column("dyspigmentation_persistent", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_clasi_assessments_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clasi_assessments")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_clasi_assessments_visit_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "labs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("sample_date", sa.Date(), nullable=False),
        sa.Column("test", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=12), nullable=False),
        sa.Column("lln", sa.Float(), nullable=True),
        sa.Column("ctcae_term", sa.String(length=40), nullable=True),
        sa.Column("ctcae_grade", sa.SmallInteger(), nullable=True),
        sa.Column("ctcae_version", sa.String(length=4), nullable=True),
        sa.Column("lln_source", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_labs_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_labs_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labs")),
        sa.UniqueConstraint(
            "patient_id", "sample_date", "test", name=op.f("uq_labs_patient_id_sample_date_test")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_labs_visit_id"), "labs", ["visit_id"], unique=False)
    op.create_table(
        "protocol_deviations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("deviation_date", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_protocol_deviations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_protocol_deviations_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_deviations")),
        sa.UniqueConstraint(
            "patient_id",
            "deviation_date",
            "category",
            name=op.f("uq_protocol_deviations_patient_id_deviation_date_category"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_protocol_deviations_visit_id"), "protocol_deviations", ["visit_id"], unique=False
    )
    op.create_table(
        "sledai_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("entry", sa.String(length=6), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        *[sa.Column(name, sa.Boolean(), nullable=True) for name in SLEDAI_COLUMNS],
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_sledai_assessments_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sledai_assessments")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_sledai_assessments_visit_id")),
        sqlite_autoincrement=True,
    )
    _create_audit_guards()
    op.execute(
        sa.text(
            "INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, :genesis)"
        ).bindparams(genesis=GENESIS_HASH)
    )


def downgrade() -> None:
    """Revert this migration."""
    _drop_audit_guards()
    op.drop_table("sledai_assessments")
    op.drop_index(op.f("ix_protocol_deviations_visit_id"), table_name="protocol_deviations")
    op.drop_table("protocol_deviations")
    op.drop_index(op.f("ix_labs_visit_id"), table_name="labs")
    op.drop_table("labs")
    op.drop_table("clasi_assessments")
    op.drop_index(
        "uq_visits_one_baseline",
        table_name="visits",
        sqlite_where=sa.text("kind = 'baseline'"),
        postgresql_where=sa.text("kind = 'baseline'"),
    )
    op.drop_table("visits")
    op.drop_table("screenings")
    op.drop_table("pregnancy_tests")
    op.drop_table("patient_identities")
    op.drop_table("patient_events")
    op.drop_table("doses")
    op.drop_table("adverse_events")
    op.drop_index(op.f("ix_user_sites_site_id"), table_name="user_sites")
    op.drop_table("user_sites")
    op.drop_index(op.f("ix_patients_study_id"), table_name="patients")
    op.drop_index(op.f("ix_patients_site_id"), table_name="patients")
    op.drop_table("patients")
    op.drop_index(op.f("ix_sites_study_id"), table_name="sites")
    op.drop_table("sites")
    op.drop_table("users")
    op.drop_table("studies")
    op.drop_index("ix_audit_log_record", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("audit_head")


#: Appends audit rows on PostgreSQL in one call: lock the chain head, then for each row
#: row_hash = sha256(prev_hash || '|' || id || '|' || content), content being the row's
#: canonical JSON computed by the client (cletrial.store.audit.compute_row_content).
APPEND_AUDIT_FUNCTION = """
CREATE FUNCTION cletrial_append_audit(p_at timestamptz, p_txid text, p_rows jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_prev text;
    v_hash text;
    r jsonb;
BEGIN
    SELECT last_id, last_hash INTO v_id, v_prev FROM audit_head WHERE id = 1 FOR UPDATE;
    PERFORM set_config('cletrial.appending', 'on', true);
    FOR r IN SELECT value FROM jsonb_array_elements(p_rows) LOOP
        v_id := v_id + 1;
        v_hash := encode(sha256(convert_to(
            v_prev || '|' || v_id::text || '|' || (r->>'content'), 'UTF8')), 'hex');
        INSERT INTO audit_log (id, occurred_at, actor, action, table_name, record_id, field,
                               old_value, new_value, reason, record_version, txid, prev_hash,
                               row_hash)
        VALUES (v_id, p_at, r->>'actor', r->>'action', r->>'table_name',
                (r->>'record_id')::bigint, r->>'field', r->>'old_value', r->>'new_value',
                r->>'reason', (r->>'record_version')::integer, p_txid, v_prev, v_hash);
        v_prev := v_hash;
    END LOOP;
    UPDATE audit_head SET last_id = v_id, last_hash = v_prev WHERE id = 1;
    PERFORM set_config('cletrial.appending', 'off', true);
    RETURN v_id;
END $$
"""

#: PostgreSQL guards: (name, SQL). The WHEN clauses are checked without calling PL/pgSQL, so
#: the guards cost nothing on the normal path.
PG_GUARDS = (
    ("cletrial_audit_append_only",
     "CREATE FUNCTION cletrial_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
     "BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$"),
    ("cletrial_audit_head_forward",
     "CREATE FUNCTION cletrial_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$ "
     "BEGIN RAISE EXCEPTION 'audit_head only moves forward: % refused', TG_OP; END $$"),
    ("cletrial_audit_move_head",
     "CREATE FUNCTION cletrial_audit_move_head() RETURNS trigger LANGUAGE plpgsql AS $$ "
     "BEGIN UPDATE audit_head SET last_id = NEW.id, last_hash = NEW.row_hash WHERE id = 1; "
     "RETURN NULL; END $$"),
    ("audit_log_append_only",
     "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
     "FOR EACH ROW EXECUTE FUNCTION cletrial_audit_append_only()"),
    ("audit_log_no_truncate",
     "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
     "FOR EACH STATEMENT EXECUTE FUNCTION cletrial_audit_append_only()"),
    ("audit_head_forward_only",
     "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head FOR EACH ROW "
     "WHEN (NEW.last_id <= OLD.last_id OR NEW.id <> OLD.id) "
     "EXECUTE FUNCTION cletrial_audit_head_forward()"),
    ("audit_head_no_delete",
     "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
     "FOR EACH ROW EXECUTE FUNCTION cletrial_audit_head_forward()"),
    ("audit_head_no_truncate",
     "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
     "FOR EACH STATEMENT EXECUTE FUNCTION cletrial_audit_head_forward()"),
    ("audit_log_moves_head",
     "CREATE TRIGGER audit_log_moves_head AFTER INSERT ON audit_log FOR EACH ROW "
     "WHEN (current_setting('cletrial.appending', true) IS DISTINCT FROM 'on') "
     "EXECUTE FUNCTION cletrial_audit_move_head()"),
    ("cletrial_append_audit", APPEND_AUDIT_FUNCTION),
)  # fmt: skip


#: SQLite guards of the chain head: (name -> SQL).
SQLITE_HEAD_GUARDS = {
    "audit_head_forward_only": (
        "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
        "WHEN NEW.last_id <= OLD.last_id OR NEW.id <> OLD.id "
        "BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END"
    ),
    "audit_log_moves_head": (
        "CREATE TRIGGER audit_log_moves_head AFTER INSERT ON audit_log BEGIN "
        "UPDATE audit_head SET last_id = NEW.id, last_hash = NEW.row_hash WHERE id = 1; END"
    ),
}


def _create_audit_guards() -> None:
    """Make ``audit_log`` append-only with triggers on both engines."""
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {event} refused'); END"
            )
        op.execute(
            "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
            "BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END"
        )
        for statement in SQLITE_HEAD_GUARDS.values():
            op.execute(statement)
        return
    for _name, statement in PG_GUARDS:
        op.execute(statement)


def _drop_audit_guards() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("audit_log_no_update", "audit_log_no_delete", "audit_head_no_delete",
                        "audit_head_forward_only", "audit_log_moves_head"):  # fmt: skip
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        return
    for name, statement in reversed(PG_GUARDS):
        if statement.startswith("CREATE TRIGGER"):
            table = "audit_head" if "ON audit_head" in statement else "audit_log"
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            op.execute(f"DROP FUNCTION IF EXISTS {name} CASCADE")
