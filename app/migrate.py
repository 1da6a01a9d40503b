"""Run Alembic migrations programmatically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


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
