"""What every `qbslack` subcommand shares: its error type, runtime and lookups."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from app.core.runtime import Runtime
from app.core.settings import Settings
from tenants import service
from tenants.models import Connection, Tenant


class CliError(Exception):
    """A user-facing command failure: printed without a traceback, exit code 1."""


def runtime() -> Runtime:
    """The runtime the environment describes."""
    return Runtime.from_settings(Settings.from_env())


def print_json(data: Any) -> None:
    """One JSON object on one line."""
    print(json.dumps(data, default=str))


def tenant(team_id: str, *, db_session: Session) -> Tenant:
    """A workspace by team id, or a CliError."""
    try:
        return service.require_tenant(team_id, db_session=db_session)
    except service.NotFound as exc:
        raise CliError(str(exc)) from exc


def connection(team_id: str, company: str | None, *, db_session: Session) -> Connection:
    """A workspace's connection by company name (or its first), or a CliError."""
    try:
        return service.require_connection(team_id, company, db_session=db_session)
    except service.NotFound as exc:
        raise CliError(str(exc)) from exc
