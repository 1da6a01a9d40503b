"""Run Alembic migrations programmatically."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

# The migrations package is Alembic's script directory, found without importing it: its
# env.py loads every model, which the ground must not.
_spec = importlib.util.find_spec("migrations")
assert _spec is not None and _spec.origin is not None, "the migrations package is installed"
MIGRATIONS_DIR = Path(_spec.origin).resolve().parent


def alembic_config(url: str, connection: Any = None) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, revision: str = "head", *, connection: Any = None) -> None:
    """Upgrade the database at url (or on an open connection) to revision."""
    command.upgrade(alembic_config(url, connection), revision)
