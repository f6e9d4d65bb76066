"""packed samples: a metric's samples as two packed arrays on its row, not a row each

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

The values of every stored metric are moved into ``metrics.sample_values``
(little-endian float64, in ``seq`` order) and their repetitions into
``metrics.sample_repetitions`` (int64, ``NO_REPETITION`` for none), then the
``samples`` table is dropped. Downgrade unpacks them again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BATCH = 5000  # metrics converted per statement: bounded memory on a large store


def upgrade() -> None:
    from perflab.store.packed import pack_repetitions, pack_values

    with op.batch_alter_table("metrics") as batch:
        batch.add_column(sa.Column("sample_values", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("sample_repetitions", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    metrics = sa.table(
        "metrics",
        sa.column("id", sa.Integer),
        sa.column("sample_values", sa.LargeBinary),
        sa.column("sample_repetitions", sa.LargeBinary),
    )
    ids = [int(r[0]) for r in conn.execute(sa.text("SELECT id FROM metrics ORDER BY id"))]
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        found: dict[int, tuple[list[float], list[Any]]] = {mid: ([], []) for mid in chunk}
        rows = conn.execute(
            sa.text(
                "SELECT metric_id, repetition, value FROM samples "
                "WHERE metric_id >= :lo AND metric_id <= :hi ORDER BY metric_id, seq"
            ),
            {"lo": chunk[0], "hi": chunk[-1]},
        )
        for mid, rep, value in rows:
            if int(mid) in found:
                found[int(mid)][0].append(float(value))
                found[int(mid)][1].append(rep)
        conn.execute(
            metrics.update()
            .where(metrics.c.id == sa.bindparam("mid"))
            .values(sample_values=sa.bindparam("vals"), sample_repetitions=sa.bindparam("reps")),
            [
                {"mid": mid, "vals": pack_values(vals), "reps": pack_repetitions(reps)}
                for mid, (vals, reps) in found.items()
            ],
        )
    # samples first: on SQLite the NOT NULL below rebuilds metrics, and dropping the old
    # table would cascade into samples that reference it
    op.drop_index("ix_samples_metric_id", table_name="samples")
    op.drop_table("samples")
    with op.batch_alter_table("metrics") as batch:
        batch.alter_column("sample_values", existing_type=sa.LargeBinary(), nullable=False)
        batch.alter_column("sample_repetitions", existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    from perflab.store.packed import unpack_repetitions, unpack_values

    op.create_table(
        "samples",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "metric_id",
            sa.Integer(),
            sa.ForeignKey("metrics.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("repetition", sa.Integer(), nullable=True),
        sa.Column("value", sa.Double(), nullable=False),
    )
    op.create_index("ix_samples_metric_id", "samples", ["metric_id"])
    conn = op.get_bind()
    samples = sa.table(
        "samples",
        sa.column("metric_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("repetition", sa.Integer),
        sa.column("value", sa.Double),
    )
    rows = conn.execute(sa.text("SELECT id, sample_values, sample_repetitions FROM metrics"))
    batch: list[dict[str, Any]] = []
    for mid, blob, rep_blob in rows.all():
        values = unpack_values(blob)
        reps = unpack_repetitions(rep_blob, len(values))
        batch.extend(
            {"metric_id": mid, "seq": i, "repetition": r, "value": v}
            for i, (r, v) in enumerate(zip(reps, values, strict=True))
        )
        if len(batch) >= 50_000:
            conn.execute(samples.insert(), batch)
            batch = []
    if batch:
        conn.execute(samples.insert(), batch)
    with op.batch_alter_table("metrics") as batch_op:
        batch_op.drop_column("sample_repetitions")
        batch_op.drop_column("sample_values")
