"""in vivo lots and dosings

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invivo_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_code", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("titre", sa.Float(), nullable=False),
        sa.Column("titre_unit", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("manufactured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "platform IN ('lentiviral', 'lnp_mrna', 'other')",
            name=op.f("ck_invivo_lots_platform"),
        ),
        sa.CheckConstraint(
            "status IN ('quarantine', 'released', 'rejected')",
            name=op.f("ck_invivo_lots_status"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_invivo_lots_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invivo_lots")),
        sa.UniqueConstraint("lot_code", name=op.f("uq_invivo_lots_lot_code")),
    )
    op.create_table(
        "invivo_dosings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("dosed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dose", sa.Float(), nullable=False),
        sa.Column("dose_unit", sa.String(length=8), nullable=False),
        sa.Column("dose_level", sa.Integer(), nullable=True),
        sa.Column("indication", sa.String(length=32), nullable=False),
        sa.Column("lymphodepletion", sa.Boolean(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("baseline_alc", sa.Float(), nullable=True),
        sa.Column("baseline_cd3", sa.Float(), nullable=True),
        sa.Column("baseline_cd8", sa.Float(), nullable=True),
        sa.Column("tumour_burden", sa.Float(), nullable=True),
        sa.Column("anti_vector_titre", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "dose_unit IN ('TU/kg', 'TU', 'vg', 'vg/kg', 'mg/kg')",
            name=op.f("ck_invivo_dosings_dose_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["invivo_lots.id"], name=op.f("fk_invivo_dosings_lot_id_invivo_lots")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_invivo_dosings_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invivo_dosings")),
    )
    with op.batch_alter_table("invivo_dosings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invivo_dosings_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invivo_dosings_patient_id"), ["patient_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("invivo_dosings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invivo_dosings_patient_id"))
        batch_op.drop_index(batch_op.f("ix_invivo_dosings_lot_id"))

    op.drop_table("invivo_dosings")
    op.drop_table("invivo_lots")
