"""scrub secrets from runner variables

Runner variables written before perflab filtered every secret (only five names
were) may hold passwords or passphrases (``ansible_ssh_password``,
``ansible_sudo_password`` ...). They are removed here, with the one definition
in :mod:`perflab.secret_vars`. Older copies of them (rows rewritten or removed
before) may sit in the file's free pages: the store then rewrites an SQLite
file whole (VACUUM) once. Nothing is put back on downgrade.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from perflab.secret_vars import scrub

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    runners = sa.table("runners", sa.column("name", sa.String), sa.column("vars", sa.JSON))
    for name, variables in conn.execute(sa.select(runners.c.name, runners.c.vars)).all():
        kept, dropped = scrub(variables or {})
        if dropped:
            conn.execute(runners.update().where(runners.c.name == name).values(vars=kept))
    context.config.attributes["purge_free_space"] = True


def downgrade() -> None:
    """The secrets are gone; there is nothing to put back."""
