"""audit chains: several hash chains on PostgreSQL, so concurrent commits are not serialised

Until now every writer locked the one chain head until its commit was on disk, so commits ran
one at a time. PostgreSQL databases now have ``AUDIT_CHAINS_POSTGRESQL`` chains, each with its
own head; a writer appends to a free chain. SQLite keeps one chain (it serialises writers
anyway). Each audit row records its ``chain`` and its position in it (``chain_seq``, 1, 2, 3,
... without gaps); ``id`` stays unique and increasing (a sequence on PostgreSQL) and is still
what the row hash covers, so rows written before this migration verify unchanged: they become
chain 1, position = id. Each head records the chain's length.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: prev_hash of the first row of every chain (a copy: migrations never import application code).
GENESIS_HASH = "0" * 64
#: Chains of a PostgreSQL database (SQLite has one).
AUDIT_CHAINS_POSTGRESQL = 8

#: Appends audit rows on PostgreSQL in one call. The chain: the one this transaction already
#: holds, else the writer's preferred chain if free, else any free chain (SKIP LOCKED), else
#: wait for the preferred one. A transaction holds at most one head, so writers never deadlock on
#: heads. Per row: id = nextval, chain_seq = length + 1,
#: row_hash = sha256(prev_hash || '|' || id || '|' || content), content being the row's canonical
#: JSON computed by the client (cletrial.store.audit.compute_row_content).
APPEND_AUDIT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION cletrial_append_audit(p_at timestamptz, p_txid text, p_rows jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_chain integer := NULLIF(current_setting('cletrial.chain', true), '')::integer;
    v_pref integer := pg_backend_pid() % {AUDIT_CHAINS_POSTGRESQL} + 1;
    v_id bigint;
    v_seq bigint;
    v_prev text;
    v_hash text;
    r jsonb;
BEGIN
    IF v_chain IS NOT NULL THEN
        SELECT last_hash, length INTO v_prev, v_seq FROM audit_head WHERE id = v_chain FOR UPDATE;
    ELSE
        SELECT id, last_hash, length INTO v_chain, v_prev, v_seq FROM audit_head
            WHERE id = v_pref FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            SELECT id, last_hash, length INTO v_chain, v_prev, v_seq FROM audit_head
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
        END IF;
        IF NOT FOUND THEN
            SELECT id, last_hash, length INTO v_chain, v_prev, v_seq FROM audit_head
                WHERE id = v_pref FOR UPDATE;
        END IF;
        PERFORM set_config('cletrial.chain', v_chain::text, true);
    END IF;
    PERFORM set_config('cletrial.appending', 'on', true);
    FOR r IN SELECT value FROM jsonb_array_elements(p_rows) LOOP
        v_id := nextval('audit_log_id_seq');
        v_seq := v_seq + 1;
        v_hash := encode(sha256(convert_to(
            v_prev || '|' || v_id::text || '|' || (r->>'content'), 'UTF8')), 'hex');
        INSERT INTO audit_log (id, chain, chain_seq, occurred_at, actor, action, table_name,
                               record_id, field, old_value, new_value, reason, record_version,
                               txid, prev_hash, row_hash)
        VALUES (v_id, v_chain, v_seq, p_at, r->>'actor', r->>'action', r->>'table_name',
                (r->>'record_id')::bigint, r->>'field', r->>'old_value', r->>'new_value',
                r->>'reason', (r->>'record_version')::integer, p_txid, v_prev, v_hash);
        v_prev := v_hash;
    END LOOP;
    UPDATE audit_head SET last_id = v_id, last_hash = v_prev, length = v_seq WHERE id = v_chain;
    PERFORM set_config('cletrial.appending', 'off', true);
    RETURN v_id;
END $$
"""

#: A row inserted outside the append function moves the head of its own chain.
PG_MOVE_HEAD = (
    "CREATE OR REPLACE FUNCTION cletrial_audit_move_head() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN UPDATE audit_head SET last_id = NEW.id, last_hash = NEW.row_hash, "
    "length = NEW.chain_seq WHERE id = NEW.chain; RETURN NULL; END $$"
)
PG_FORWARD_ONLY = (
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head FOR EACH ROW "
    "WHEN (NEW.last_id <= OLD.last_id OR NEW.length <= OLD.length OR NEW.id <> OLD.id) "
    "EXECUTE FUNCTION cletrial_audit_head_forward()"
)
SQLITE_FORWARD_ONLY = (
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
    "WHEN NEW.last_id <= OLD.last_id OR NEW.length <= OLD.length OR NEW.id <> OLD.id "
    "BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END"
)
SQLITE_MOVE_HEAD = (
    "CREATE TRIGGER audit_log_moves_head AFTER INSERT ON audit_log BEGIN "
    "UPDATE audit_head SET last_id = NEW.id, last_hash = NEW.row_hash, length = NEW.chain_seq "
    "WHERE id = NEW.chain; END"
)
SQLITE_NO_UPDATE = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END"
)


def _initial() -> object:
    """The initial migration's module (its trigger and function definitions)."""
    return importlib.import_module("cletrial.store.migrations.versions.0001_initial_schema")


def upgrade() -> None:
    """Add chains: columns ``chain``, ``chain_seq`` and ``length``; more heads on PostgreSQL."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column("audit_log", sa.Column("chain", sa.Integer(), nullable=False,
                                         server_default="1"))  # fmt: skip
    op.add_column("audit_log", sa.Column("chain_seq", sa.BigInteger(), nullable=False,
                                         server_default="0"))  # fmt: skip
    op.add_column("audit_head", sa.Column("length", sa.BigInteger(), nullable=False,
                                          server_default="0"))  # fmt: skip
    if postgresql:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        op.execute("UPDATE audit_log SET chain_seq = id")
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        op.execute("ALTER TABLE audit_log ALTER COLUMN chain_seq DROP DEFAULT")
        op.execute("DROP TRIGGER audit_head_forward_only ON audit_head")
        op.execute("UPDATE audit_head SET length = last_id")
        op.execute(PG_FORWARD_ONLY)
        op.execute("CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id")
        op.execute("SELECT setval('audit_log_id_seq', COALESCE(max(id), 0) + 1, false) "
                   "FROM audit_log")  # fmt: skip
        op.execute(
            sa.text(
                "INSERT INTO audit_head (id, last_id, last_hash, length) "
                "SELECT n, 0, :genesis, 0 FROM generate_series(2, :chains) AS n"
            ).bindparams(genesis=GENESIS_HASH, chains=AUDIT_CHAINS_POSTGRESQL)
        )
        op.execute(PG_MOVE_HEAD)
        op.execute(APPEND_AUDIT_FUNCTION)
        return
    op.execute("DROP TRIGGER audit_log_no_update")
    op.execute("UPDATE audit_log SET chain_seq = id")
    op.execute(SQLITE_NO_UPDATE)
    op.execute("DROP TRIGGER audit_head_forward_only")
    op.execute("UPDATE audit_head SET length = last_id")
    op.execute(SQLITE_FORWARD_ONLY)
    op.execute("DROP TRIGGER audit_log_moves_head")
    op.execute(SQLITE_MOVE_HEAD)


def downgrade() -> None:
    """Back to one chain: refused once rows were written to a chain other than 1."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM audit_log WHERE chain <> 1")).scalar_one():
        raise RuntimeError(
            "cannot downgrade below 0002: audit rows were written to chains other than 1, and "
            "one chain cannot hold them without rewriting their hashes"
        )
    initial = _initial()
    if bind.dialect.name == "postgresql":
        guards = dict(initial.PG_GUARDS)  # type: ignore[attr-defined]
        op.execute("DROP TRIGGER audit_head_no_delete ON audit_head")
        op.execute("DELETE FROM audit_head WHERE id <> 1")
        op.execute(guards["audit_head_no_delete"])
        op.execute("DROP TRIGGER audit_head_forward_only ON audit_head")
        op.execute(guards["audit_head_forward_only"])
        op.execute("DROP FUNCTION cletrial_append_audit(timestamptz, text, jsonb)")
        op.execute(initial.APPEND_AUDIT_FUNCTION)  # type: ignore[attr-defined]
        op.execute(
            guards["cletrial_audit_move_head"].replace(
                "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
            )
        )
        op.execute("DROP SEQUENCE audit_log_id_seq")
    else:
        op.execute("DROP TRIGGER audit_log_moves_head")
        op.execute("DROP TRIGGER audit_head_forward_only")
    for table, column in (("audit_head", "length"), ("audit_log", "chain_seq"),
                          ("audit_log", "chain")):  # fmt: skip
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    if bind.dialect.name == "sqlite":
        for statement in initial.SQLITE_HEAD_GUARDS.values():  # type: ignore[attr-defined]
            op.execute(statement)
