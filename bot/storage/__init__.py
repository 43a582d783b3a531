"""Persistence: SQLAlchemy tables, engines, Alembic migrations and the repositories that
implement the core's ports. Only the composition root and the CLI should import this.

Import the modules themselves (`bot.storage.migrate` pulls in Alembic, which one-shot
commands on a current database never need)."""
