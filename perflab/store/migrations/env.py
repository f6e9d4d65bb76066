"""Alembic environment: run migrations on the connection perflab hands in."""

from __future__ import annotations

from alembic import context

from perflab.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - perflab always passes a connection
    raise RuntimeError("perflab runs migrations programmatically (perflab.store.engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
