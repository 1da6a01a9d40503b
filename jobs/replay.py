"""Replay: post failed, named or date-ranged events again through the normal path."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from jobs.models import FAILED, PAUSED, POSTED, UNROUTED, DeliveryAttempt, Event

REPLAYABLE = (FAILED, POSTED, UNROUTED)


def replay_event_ids(ids: list[int], *, db_session: Session, reason: str) -> list[int]:
    """Mark events for re-posting (a new message or reply); returns the ids marked."""
    marked = []
    for event in db_session.scalars(select(Event).where(Event.id.in_(ids)).with_for_update()):
        previous = event.status
        if previous == PAUSED or previous not in REPLAYABLE:
            continue
        event.status = "pending"
        event.replay_count += 1
        event.attempts = 0
        event.next_attempt_at = None
        event.last_error = None
        if previous == UNROUTED:
            event.channel_id = None  # routed again: a route may exist now
        db_session.add(DeliveryAttempt(event_id=event.id, result="replay_requested",
                                       channel_id=event.channel_id, error=reason, replay=True))
        marked.append(event.id)
    db_session.flush()
    return marked


def replay_failed(tenant_id: int, *, db_session: Session) -> list[int]:
    """Every failed or unrouted event of a workspace."""
    ids = list(db_session.scalars(
        select(Event.id).where(Event.tenant_id == tenant_id,
                               Event.status.in_((FAILED, UNROUTED))).order_by(Event.sort_key)
    ))
    return replay_event_ids(ids, db_session=db_session, reason="/qb-replay failed")


def replay_object(tenant_id: int, key: str, *, db_session: Session) -> list[int]:
    """The latest event of the object with that TxnID, ListID or RefNumber."""
    key = key.strip()
    event = db_session.scalar(
        select(Event).where(
            Event.tenant_id == tenant_id,
            Event.status.in_(REPLAYABLE),
            or_(Event.object_id == key, Event.ref_number == key),
        ).order_by(Event.sort_key.desc(), Event.id.desc()).limit(1)
    )
    if event is None:
        return []
    return replay_event_ids([event.id], db_session=db_session, reason=f"/qb-replay {key}")


def replay_since(tenant_id: int, since: dt.date, *, db_session: Session) -> list[int]:
    """Everything received since a date (UTC), in QuickBooks order."""
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    if start > utcnow():
        return []
    ids = list(db_session.scalars(
        select(Event.id).where(Event.tenant_id == tenant_id, Event.created_at >= start,
                               Event.status.in_(REPLAYABLE)).order_by(Event.sort_key, Event.id)
    ))
    return replay_event_ids(ids, db_session=db_session, reason=f"/qb-replay since {since}")
