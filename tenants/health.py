"""A company file's health: one function the App Home, the CLI, /metrics and alerts share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select

from tenants.enums import ConnectionStatus, TenantStatus
from tenants.models import Connection, Tenant

if TYPE_CHECKING:
    from app.core.settings import Settings

MIN_STALE_AFTER = dt.timedelta(minutes=15)
STALE_INTERVALS = 3  # polls missed before a connection counts as stale
ERROR_SESSIONS = 3  # the same QuickBooks error this many sessions in a row raises an alert


class Health(StrEnum):
    """What a person should know about a company file at a glance."""

    NEW = "new"  # never polled yet
    OK = "ok"
    STALE = "stale"  # the Web Connector has not come by for too long
    ERROR = "error"  # the last session ended with a QuickBooks error
    WRONG_FILE = "wrong_company_file"
    PAUSED = "paused"  # Slack disconnected: deliveries wait for a reinstall
    DISABLED = "disabled"  # switched off by the operator


LABELS = {
    Health.NEW: "Waiting for the first poll",
    Health.OK: "OK",
    Health.STALE: "Stale",
    Health.ERROR: "Error",
    Health.WRONG_FILE: "Wrong file",
    Health.PAUSED: "Paused",
    Health.DISABLED: "Disabled",
}
EMOJI = {
    Health.NEW: ":hourglass_flowing_sand:",
    Health.OK: ":white_check_mark:",
    Health.STALE: ":warning:",
    Health.ERROR: ":x:",
    Health.WRONG_FILE: ":no_entry:",
    Health.PAUSED: ":double_vertical_bar:",
    Health.DISABLED: ":no_entry_sign:",
}


@dataclass(frozen=True)
class Vitals:
    """The columns health is read from (a Connection row and its tenant's status)."""

    status: str
    tenant_status: str
    last_poll_at: dt.datetime | None
    run_every_minutes: int | None
    error_streak: int = 0
    locked_until: dt.datetime | None = None


@dataclass(frozen=True)
class ConnectionHealth:
    """A company file's state now, with the words every surface uses for it."""

    state: Health
    last_poll_at: dt.datetime | None
    stale_after: dt.timedelta
    seconds_since_poll: float | None
    locked: bool
    error_streak: int

    @property
    def label(self) -> str:
        """The state in one or two words: OK, Stale, Error, Wrong file, Paused…"""
        return LABELS[self.state]

    @property
    def emoji(self) -> str:
        """The state's emoji for Slack."""
        return EMOJI[self.state]

    @property
    def last_poll_text(self) -> str:
        """ "last poll 3 h ago", or "never polled"."""
        if self.seconds_since_poll is None:
            return "never polled"
        return f"last poll {ago(self.seconds_since_poll)}"

    @property
    def summary(self) -> str:
        """The label and the last poll: "Stale · last poll 3 h ago"."""
        return f"{self.label} · {self.last_poll_text}"


def stale_after(
    run_every_minutes: int | None, *, default_every: int, override: float | None
) -> dt.timedelta:
    """How long without a completed session makes a connection stale."""
    if override is not None:
        return dt.timedelta(minutes=override)
    every = run_every_minutes or default_every
    return max(STALE_INTERVALS * dt.timedelta(minutes=every), MIN_STALE_AFTER)


def connection_health(
    vitals: Vitals,
    *,
    now: dt.datetime,
    default_every: int,
    stale_override: float | None,
) -> ConnectionHealth:
    """The health of one company file at `now` (a pure function of its columns)."""
    threshold = stale_after(
        vitals.run_every_minutes, default_every=default_every, override=stale_override
    )
    since = (now - vitals.last_poll_at).total_seconds() if vitals.last_poll_at else None
    return ConnectionHealth(
        state=_state(vitals, since, threshold),
        last_poll_at=vitals.last_poll_at,
        stale_after=threshold,
        seconds_since_poll=since,
        locked=vitals.locked_until is not None and vitals.locked_until > now,
        error_streak=vitals.error_streak,
    )


def _state(vitals: Vitals, since: float | None, threshold: dt.timedelta) -> Health:
    # Most actionable first: a switched-off or disconnected workspace explains everything
    # else; a Web Connector that stopped coming by makes its last session's outcome old news.
    if vitals.status == ConnectionStatus.DISABLED or vitals.tenant_status == TenantStatus.DISABLED:
        return Health.DISABLED
    if vitals.tenant_status != TenantStatus.ACTIVE:
        return Health.PAUSED
    if since is None:
        return Health.NEW
    if since >= threshold.total_seconds():
        return Health.STALE
    if vitals.status == ConnectionStatus.WRONG_FILE:
        return Health.WRONG_FILE
    if vitals.status == ConnectionStatus.ERROR:
        return Health.ERROR
    return Health.OK


def ago(seconds: float) -> str:
    """A duration as a status line says it: "just now", "12 min ago", "3 h ago", "2 days ago"."""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


# -- building Vitals: every surface reads the same columns the same way ----------------

# id, tenant_id, status, tenant_status, last_poll_at, run_every_minutes, error_streak,
# locked_until
VitalsRow = tuple[int, int, str, str, dt.datetime | None, int | None, int, dt.datetime | None]


def vitals_of(conn: Connection) -> Vitals:
    """A loaded connection's vitals (its tenant's status comes through the relationship)."""
    return Vitals(
        status=conn.status,
        tenant_status=conn.tenant.status,
        last_poll_at=conn.last_poll_at,
        run_every_minutes=conn.run_every_minutes,
        error_streak=conn.error_streak or 0,
        locked_until=conn.locked_until,
    )


def vitals_select() -> Select[*VitalsRow]:
    """Just the columns health is read from, for every connection (with its id and tenant's).

    One query for the whole fleet: /metrics reads it with 10,000 connections at every scrape.
    """
    return select(
        Connection.id,
        Connection.tenant_id,
        Connection.status,
        Tenant.status.label("tenant_status"),
        Connection.last_poll_at,
        Connection.run_every_minutes,
        Connection.error_streak,
        Connection.locked_until,
    ).join(Tenant, Tenant.id == Connection.tenant_id)


def vitals_from_row(row: Any) -> Vitals:
    """The Vitals of a row of vitals_select() (or of any select with those column names)."""
    return Vitals(
        status=row.status,
        tenant_status=row.tenant_status,
        last_poll_at=row.last_poll_at,
        run_every_minutes=row.run_every_minutes,
        error_streak=row.error_streak or 0,
        locked_until=row.locked_until,
    )


def health_now(vitals: Vitals, *, now: dt.datetime, settings: Settings) -> ConnectionHealth:
    """connection_health with the deployment's interval and STALE_AFTER_MINUTES."""
    return connection_health(
        vitals,
        now=now,
        default_every=settings.qbwc_run_every_minutes,
        stale_override=settings.stale_after_minutes,
    )
