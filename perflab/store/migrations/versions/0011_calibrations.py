"""calibrations: each runner's speed figure from `perflab verify`'s noise probe

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("runner", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(200), nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ns_per_iteration", sa.Double(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_calibrations_runner", "calibrations", ["runner"])
    op.create_index("ix_calibrations_measured_at", "calibrations", ["measured_at"])


def downgrade() -> None:
    op.drop_table("calibrations")
