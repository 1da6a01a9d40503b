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

# App Home's stats cover this window, counted back from the runtime's clock.
STATS_WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class ConnectionOutbox:
    """What App Home shows of one company file's events, each count with one scope.

    The *_24h counts are events received in the STATS_WINDOW before `now` by where they are
    now; failed and unrouted are everything waiting to be replayed, whenever it arrived.
    """

    posted_24h: int = 0
    failed_24h: int = 0
    unrouted_24h: int = 0
    failed: int = 0  # waiting to be replayed
    unrouted: int = 0  # waiting for a route (replayed with the failed ones)
    waiting_notices: int = 0  # "connected" notices with nowhere allowed to post
    latest_failures: list[Event] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        """Events a replay of the failed ones would queue again (failed or unrouted)."""
        return self.failed + self.unrouted


def connection_outbox(
    connection_id: int, *, db_session: Session, now: dt.datetime, failures: int = 3
) -> ConnectionOutbox:
    """The last 24 h's events by status, what waits to be replayed, and the latest failures."""
    shown = (EventStatus.POSTED, EventStatus.FAILED, EventStatus.UNROUTED)
    recent = dict(
        db_session.execute(
            select(Event.status, func.count())
            .where(
                Event.connection_id == connection_id,
                Event.created_at >= now - STATS_WINDOW,
                Event.status.in_(shown),
            )
            .group_by(Event.status)
        ).all()
    )
    waiting = db_session.execute(
        select(Event.status, Event.event_type, func.count())
        .where(
            Event.connection_id == connection_id,
            Event.status.in_((EventStatus.FAILED, EventStatus.UNROUTED)),
        )
        .group_by(Event.status, Event.event_type)
    ).all()
    by_status: dict[str, int] = {}
    notices = 0
    for status, event_type, count in waiting:
        by_status[status] = by_status.get(status, 0) + count
        if status == EventStatus.UNROUTED and event_type == EventType.NOTICE:
            notices += count
    latest = db_session.scalars(
        select(Event)
        .where(Event.connection_id == connection_id, Event.status == EventStatus.FAILED)
        .order_by(Event.updated_at.desc())
        .limit(failures)
    ).all()
    return ConnectionOutbox(
        posted_24h=recent.get(EventStatus.POSTED, 0),
        failed_24h=recent.get(EventStatus.FAILED, 0),
        unrouted_24h=recent.get(EventStatus.UNROUTED, 0),
        failed=by_status.get(EventStatus.FAILED, 0),
        unrouted=by_status.get(EventStatus.UNROUTED, 0),
        waiting_notices=notices,
        latest_failures=list(latest),
    )


@dataclass(frozen=True)
class Waiting:
    """A company file's events waiting to be replayed: failed, and unrouted (no channel)."""

    failed: int = 0
    unrouted: int = 0

    @property
    def total(self) -> int:
        """What a replay of the failed ones would queue again."""
        return self.failed + self.unrouted


def waiting_by_connection(tenant_id: int, *, db_session: Session) -> dict[int, Waiting]:
    """Every company file of a workspace with events waiting (one query, for App Home's list
    of hundreds of files); a file with none is absent."""
    rows = db_session.execute(
        select(Event.connection_id, Event.status, func.count())
        .where(
            Event.tenant_id == tenant_id,
            Event.status.in_((EventStatus.FAILED, EventStatus.UNROUTED)),
        )
        .group_by(Event.connection_id, Event.status)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for conn_id, status, count in rows:
        counts.setdefault(conn_id, {})[status] = int(count)
    return {
        conn_id: Waiting(
            failed=c.get(EventStatus.FAILED, 0), unrouted=c.get(EventStatus.UNROUTED, 0)
        )
        for conn_id, c in counts.items()
    }


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
