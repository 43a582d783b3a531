"""Where the shipped knowledge base and migrations are, installed or in a checkout.

A wheel carries them inside the package (`bot/knowledge`, `bot/migrations`, see setup.py); a
source checkout or an editable install has them at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """The directory `name` (`knowledge` or `migrations`) that came with this code."""
    installed = PACKAGE / name
    if installed.is_dir():
        return installed
    return PACKAGE.parent / name


SHIPPED_KNOWLEDGE = shipped("knowledge")
MIGRATIONS = shipped("migrations")
