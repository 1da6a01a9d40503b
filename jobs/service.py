"""Outbox questions and changes for App Home, the CLI and metrics (caller owns the session)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.core.db import utcnow
from jobs.enums import EventStatus
from jobs.models import Event
from tenants.enums import EventType
from tenants.models import Connection


@dataclass(frozen=True)
class ConnectionOutbox:
    """What App Home shows of one company file's events."""

    today: int = 0
    failed: int = 0
    unrouted: int = 0
    waiting_notices: int = 0  # "connected" notices with nowhere allowed to post
    latest_failures: list[Event] = field(default_factory=list)


def connection_outbox(
    connection_id: int, *, db_session: Session, failures: int = 3
) -> ConnectionOutbox:
    """Events today (UTC), failed and unrouted counts, and the latest failed deliveries."""
    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    base = select(func.count()).select_from(Event).where(Event.connection_id == connection_id)
    latest = db_session.scalars(
        select(Event)
        .where(Event.connection_id == connection_id, Event.status == EventStatus.FAILED)
        .order_by(Event.updated_at.desc())
        .limit(failures)
    ).all()
    return ConnectionOutbox(
        today=db_session.scalar(base.where(Event.created_at >= start)) or 0,
        failed=db_session.scalar(base.where(Event.status == EventStatus.FAILED)) or 0,
        unrouted=db_session.scalar(base.where(Event.status == EventStatus.UNROUTED)) or 0,
        waiting_notices=db_session.scalar(
            base.where(Event.status == EventStatus.UNROUTED, Event.event_type == EventType.NOTICE)
        )
        or 0,
        latest_failures=list(latest),
    )


def pending_summary(*, db_session: Session) -> tuple[dt.datetime | None, int]:
    """The oldest pending event's creation time and how many are pending (metrics)."""
    oldest, count = db_session.execute(
        select(func.min(Event.created_at), func.count()).where(Event.status == EventStatus.PENDING)
    ).one()
    return oldest, int(count)


def pause_tenant(tenant_id: int, *, db_session: Session) -> int:
    """Park a tenant's pending events until it is reinstalled; nothing is dropped."""
    result = db_session.execute(
        update(Event)
        .where(Event.tenant_id == tenant_id, Event.status == EventStatus.PENDING)
        .values(status=EventStatus.PAUSED, updated_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def resume_tenant(tenant_id: int, *, db_session: Session) -> list[int]:
    """Paused events back to pending (after a reinstall); the caller schedules them."""
    ids = list(
        db_session.scalars(
            select(Event.id).where(Event.tenant_id == tenant_id, Event.status == EventStatus.PAUSED)
        )
    )
    if ids:
        db_session.execute(
            update(Event)
            .where(Event.id.in_(ids))
            .values(status=EventStatus.PENDING, next_attempt_at=None, updated_at=utcnow())
        )
    return ids


def request_backfill(conn: Connection, days: int, *, db_session: Session) -> list[int]:
    """Post the last `days` days of changes: on the first sync, or now from the baseline.

    Before the first sync the connection asks QuickBooks for that many days and posts them;
    after it, events recorded as the baseline within those days become pending again.
    Returns the event ids to schedule (after commit).
    """
    if not 1 <= days <= 365:
        raise ValueError("a backfill is 1 to 365 days")
    if not conn.baseline_done:
        conn.backfill_days = days
        return []
    since = utcnow() - dt.timedelta(days=days)
    events = db_session.scalars(
        select(Event)
        .where(
            Event.connection_id == conn.id,
            Event.status == EventStatus.BASELINE,
            Event.sort_key >= since,
        )
        .order_by(Event.sort_key)
    ).all()
    for event in events:
        event.status = EventStatus.PENDING
    db_session.flush()
    return [e.id for e in events]
