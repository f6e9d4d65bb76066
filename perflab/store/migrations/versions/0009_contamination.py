"""repetitions: contamination evidence (others' share of the benchmark's CPUs, steal,
runnable tasks, the window the figures cover)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = (
    ("other_share", sa.Double),
    ("steal_share", sa.Double),
    ("runnable", sa.Integer),
    ("evidence_window", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("repetitions") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("repetitions") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
