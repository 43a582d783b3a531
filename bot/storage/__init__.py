"""Persistence: SQLAlchemy tables, engines, Alembic migrations and the repositories that
implement the core's ports. Only the composition root and the CLI should import this."""

from bot.storage.engine import create_engine
from bot.storage.migrate import current, upgrade
from bot.storage.repositories import build_repositories

__all__ = ["build_repositories", "create_engine", "current", "upgrade"]
