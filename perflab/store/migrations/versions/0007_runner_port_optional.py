"""runners: the port may be unset (then the SSH config's Port, else 22, applies)

A runner registered without a port (``runner add`` without ``--port``, an
inventory host without ``ansible_port``) takes the port its SSH config gives,
as ssh does for Ansible. Rows written before stored 22 for "not given": those
whose variables do not set ``ansible_port`` (or ``ansible_ssh_port``) become
unset. Downgrade writes 22 back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PORT_VARS = ("ansible_port", "ansible_ssh_port")


def upgrade() -> None:
    with op.batch_alter_table("runners") as batch:
        batch.alter_column("port", existing_type=sa.Integer(), nullable=True)
    conn = op.get_bind()
    runners = sa.table(
        "runners",
        sa.column("name", sa.String),
        sa.column("port", sa.Integer),
        sa.column("vars", sa.JSON),
    )
    rows = conn.execute(sa.select(runners.c.name, runners.c.vars).where(runners.c.port == 22)).all()
    for name, variables in rows:
        if not any((variables or {}).get(v) is not None for v in _PORT_VARS):
            conn.execute(runners.update().where(runners.c.name == name).values(port=None))


def downgrade() -> None:
    runners = sa.table("runners", sa.column("port", sa.Integer))
    op.get_bind().execute(runners.update().where(runners.c.port.is_(None)).values(port=22))
    with op.batch_alter_table("runners") as batch:
        batch.alter_column("port", existing_type=sa.Integer(), nullable=False)
