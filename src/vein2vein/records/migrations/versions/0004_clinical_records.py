"""clinical records

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kinetics_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("below_lloq", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_kinetics_samples_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kinetics_samples")),
        sa.UniqueConstraint(
            "patient_id", "day", "method", name=op.f("uq_kinetics_samples_patient_id")
        ),
    )
    op.create_table(
        "response_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.String(length=16), nullable=False),
        sa.Column("response", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("mrd_result", sa.String(length=16), nullable=True),
        sa.Column("mrd_sensitivity", sa.Float(), nullable=True),
        sa.Column("mrd_method", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "criteria IN ('lugano', 'imwg', 'iwcll')", name=op.f("ck_response_assessments_criteria")
        ),
        sa.CheckConstraint(
            "mrd_result IS NULL OR mrd_sensitivity IS NOT NULL",
            name=op.f("ck_response_assessments_mrd_sensitivity"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_response_assessments_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_assessments")),
    )
    with op.batch_alter_table("response_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_response_assessments_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "toxicity_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("observation", sa.JSON(), nullable=False),
        sa.Column("tocilizumab", sa.Boolean(), nullable=False),
        sa.Column("steroids", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('crs', 'icans')", name=op.f("ck_toxicity_assessments_kind")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_toxicity_assessments_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_toxicity_assessments")),
        sa.UniqueConstraint(
            "patient_id", "kind", "day", name=op.f("uq_toxicity_assessments_patient_id")
        ),
    )
    op.create_table(
        "infusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("din", sa.String(length=13), nullable=False),
        sa.Column("infused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dose_cells", sa.Float(), nullable=False),
        sa.Column("dose_per_kg", sa.Float(), nullable=True),
        sa.Column("indication", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_infusions_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_infusions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infusions")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_infusions_batch_id")),
    )
    with op.batch_alter_table("infusions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_infusions_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("infusions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_infusions_patient_id"))

    op.drop_table("infusions")
    op.drop_table("toxicity_assessments")
    with op.batch_alter_table("response_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_assessments_patient_id"))

    op.drop_table("response_assessments")
    op.drop_table("kinetics_samples")
