"""process monitoring

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Readings are raw data: append-only, like the audit trail (their Ingest is audited).
_SQLITE = (
    """CREATE TRIGGER readings_no_update BEFORE UPDATE ON readings
    BEGIN SELECT RAISE(ABORT, 'readings are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER readings_no_delete BEFORE DELETE ON readings
    BEGIN SELECT RAISE(ABORT, 'readings are append-only: DELETE refused'); END""",
)
_PG = (
    """CREATE FUNCTION readings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'readings are append-only: % refused', TG_OP;
    END $$""",
    """CREATE TRIGGER readings_no_update_delete BEFORE UPDATE OR DELETE ON readings
    FOR EACH ROW EXECUTE FUNCTION readings_append_only()""",
    """CREATE TRIGGER readings_no_truncate BEFORE TRUNCATE ON readings
    FOR EACH STATEMENT EXECUTE FUNCTION readings_append_only()""",
)


def upgrade() -> None:
    op.create_table(
        "process_parameters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_parameters")),
        sa.UniqueConstraint("name", name=op.f("uq_process_parameters_name")),
    )
    op.create_table(
        "control_limit_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parameter_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("chart", sa.String(length=16), nullable=False),
        sa.Column("center", sa.Float(), nullable=False),
        sa.Column("lcl", sa.Float(), nullable=False),
        sa.Column("ucl", sa.Float(), nullable=False),
        sa.Column("sigma", sa.Float(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("baseline_batches", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parameter_id"],
            ["process_parameters.id"],
            name=op.f("fk_control_limit_sets_parameter_id_process_parameters"),
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["users.id"], name=op.f("fk_control_limit_sets_set_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_control_limit_sets_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_limit_sets")),
        sa.UniqueConstraint(
            "parameter_id", "site_id", "version", name=op.f("uq_control_limit_sets_parameter_id")
        ),
    )
    op.create_table(
        "ingests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("n_readings", sa.Integer(), nullable=False),
        sa.Column("n_batches", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ingested_by_id", sa.Integer(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ingested_by_id"], ["users.id"], name=op.f("fk_ingests_ingested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingests")),
    )
    op.create_table(
        "readings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("parameter_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("ingest_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_readings_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["ingest_id"], ["ingests.id"], name=op.f("fk_readings_ingest_id_ingests")
        ),
        sa.ForeignKeyConstraint(
            ["parameter_id"],
            ["process_parameters.id"],
            name=op.f("fk_readings_parameter_id_process_parameters"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readings")),
        sa.UniqueConstraint(
            "batch_id", "parameter_id", "measured_at", name=op.f("uq_readings_batch_id")
        ),
    )
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_readings_parameter_time", ["parameter_id", "measured_at"], unique=False
        )

    with op.batch_alter_table("deviations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("parameter_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("window_start", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("window_end", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deviations_parameter_id_process_parameters"),
            "process_parameters",
            ["parameter_id"],
            ["id"],
        )
    for statement in _PG if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER readings_no_truncate ON readings")
        op.execute("DROP TRIGGER readings_no_update_delete ON readings")
        op.execute("DROP FUNCTION readings_append_only()")
    else:
        op.execute("DROP TRIGGER readings_no_update")
        op.execute("DROP TRIGGER readings_no_delete")
    with op.batch_alter_table("deviations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deviations_parameter_id_process_parameters"), type_="foreignkey"
        )
        batch_op.drop_column("details")
        batch_op.drop_column("window_end")
        batch_op.drop_column("window_start")
        batch_op.drop_column("parameter_id")
        batch_op.drop_column("source")

    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.drop_index("ix_readings_parameter_time")

    op.drop_table("readings")
    op.drop_table("ingests")
    op.drop_table("control_limit_sets")
    op.drop_table("process_parameters")
