"""sweeps, sweep runs and their parts; runs.sweep_run_id and runs.matrix

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("bundle", sa.String(length=64), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("baseline_policy", sa.String(length=200), nullable=False),
        sa.Column("deadline_s", sa.Double(), nullable=False),
        sa.Column("matrix", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["bundle"], ["bundles.sha256"]),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "sweep_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sweep", sa.String(length=200), nullable=False),
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("bundle", sa.String(length=64), nullable=False),
        sa.Column("baseline_policy", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("trigger_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trigger_id"),
    )
    op.create_index("ix_sweep_runs_sweep", "sweep_runs", ["sweep"])
    op.create_index("ix_sweep_runs_state", "sweep_runs", ["state"])
    op.create_index("ix_sweep_runs_started_at", "sweep_runs", ["started_at"])
    op.create_table(
        "sweep_parts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sweep_run_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=200), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("matrix", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("exit_status", sa.Integer(), nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["sweep_run_id"], ["sweep_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sweep_parts_sweep_run_id", "sweep_parts", ["sweep_run_id"])
    op.create_index("ix_sweep_parts_job_id", "sweep_parts", ["job_id"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("sweep_run_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("matrix", sa.JSON(), nullable=True))
        batch.create_index("ix_runs_sweep_run_id", ["sweep_run_id"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_sweep_run_id")
        batch.drop_column("matrix")
        batch.drop_column("sweep_run_id")
    op.drop_table("sweep_parts")
    op.drop_table("sweep_runs")
    op.drop_table("sweeps")
