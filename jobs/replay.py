"""Replay: post failed, named or date-ranged events again through the normal path."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.core.db import utcnow
from jobs.enums import EventStatus
from jobs.models import DeliveryAttempt, Event
from tenants.enums import EventType

REPLAYABLE = (EventStatus.FAILED, EventStatus.POSTED, EventStatus.UNROUTED)
# Naming an object asks for it even if it was never posted (first-sync or opt-in type).
NAMED_REPLAYABLE = (*REPLAYABLE, EventStatus.SKIPPED, EventStatus.BASELINE)


def replay_event_ids(
    ids: list[int],
    *,
    db_session: Session,
    reason: str = "replay",
    tenant_id: int | None = None,
    allowed: tuple[str, ...] = NAMED_REPLAYABLE,
) -> list[int]:
    """Mark events for re-posting (a new message or reply); returns the ids marked.

    Each is routed again by the current routes (a failed channel may have been replaced),
    gets replay_count + 1 and a "replay_requested" audit row; the caller schedules the ids
    after its commit. Pending and paused events are left alone: they are on their way.
    """
    if not ids:
        return []
    stmt = select(Event).where(Event.id.in_(ids), Event.status.in_(allowed))
    if tenant_id is not None:
        stmt = stmt.where(Event.tenant_id == tenant_id)
    marked = []
    for event in db_session.scalars(stmt.order_by(Event.sort_key, Event.id).with_for_update()):
        db_session.add(
            DeliveryAttempt(
                event_id=event.id,
                result="replay_requested",
                channel_id=event.channel_id,
                error=reason[:200],
                replay=True,
            )
        )
        event.status = EventStatus.PENDING
        event.replay_count += 1
        event.attempts = 0
        event.next_attempt_at = None
        event.last_error = None
        event.channel_id = None  # routed again when scheduled
        event.thread_ts = None
        marked.append(event.id)
    db_session.flush()
    return marked


def replay_failed(
    tenant_id: int, *, db_session: Session, connection_id: int | None = None
) -> list[int]:
    """Every failed or unrouted event of a workspace (or of one of its company files)."""
    stmt = select(Event.id).where(
        Event.tenant_id == tenant_id,
        Event.status.in_((EventStatus.FAILED, EventStatus.UNROUTED)),
    )
    if connection_id is not None:
        stmt = stmt.where(Event.connection_id == connection_id)
    ids = list(db_session.scalars(stmt.order_by(Event.sort_key)))
    return replay_event_ids(ids, db_session=db_session, reason="replay failed", tenant_id=tenant_id)


def replay_object(tenant_id: int, key: str, *, db_session: Session) -> list[int]:
    """The latest event of the object with that TxnID, ListID or RefNumber."""
    key = key.strip()
    if not key:
        return []
    event = db_session.scalar(
        select(Event)
        .where(
            Event.tenant_id == tenant_id,
            Event.event_type != EventType.NOTICE,
            or_(Event.object_id == key, Event.ref_number == key),
        )
        .order_by(Event.sort_key.desc(), Event.id.desc())
        .limit(1)
    )
    if event is None:
        return []  # unknown; or its latest event is still on its way (pending, paused)
    return replay_event_ids(
        [event.id], db_session=db_session, reason=f"replay {key}", tenant_id=tenant_id
    )


def replay_since(tenant_id: int, since: dt.date, *, db_session: Session) -> list[int]:
    """Everything received since a date (UTC), in QuickBooks order."""
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    if start > utcnow():
        return []
    ids = list(
        db_session.scalars(
            select(Event.id)
            .where(
                Event.tenant_id == tenant_id,
                Event.created_at >= start,
                Event.status.in_(REPLAYABLE),
            )
            .order_by(Event.sort_key, Event.id)
        )
    )
    return replay_event_ids(
        ids,
        db_session=db_session,
        reason=f"replay since {since}",
        tenant_id=tenant_id,
        allowed=REPLAYABLE,
    )
