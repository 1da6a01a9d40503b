"""The sweeper: the outbox is the truth, so lost queue hints are found and re-sent."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from app.core.db import utcnow
from app.core.runtime import Runtime
from jobs.delivery import kick
from jobs.enums import EventStatus
from jobs.models import Event
from jobs.routing import route_events

log = logging.getLogger(__name__)

SWEEP_EVERY = 15.0  # seconds
STALE_AFTER = dt.timedelta(seconds=20)  # younger pending events are still on their way


def sweep(runtime: Runtime, *, stale_after: dt.timedelta = STALE_AFTER) -> int:
    """Route unrouted pending events and wake every channel with pending events."""
    cutoff = utcnow() - stale_after
    with runtime.transaction() as db:
        unrouted = list(
            db.scalars(
                select(Event.id)
                .where(
                    Event.status == EventStatus.PENDING,
                    Event.channel_id.is_(None),
                    Event.updated_at <= cutoff,
                )
                .limit(5000)
            )
        )
        # Routing bumps updated_at: the channels it picked are kicked along with the rest.
        channels = route_events(unrouted, db_session=db) if unrouted else set()
        channels |= {
            (t, c)
            for t, c in db.execute(
                select(Event.tenant_id, Event.channel_id)
                .where(
                    Event.status == EventStatus.PENDING,
                    Event.channel_id.is_not(None),
                    Event.updated_at <= cutoff,
                )
                .distinct()
            )
            if c
        }
    for tenant_id, channel in sorted(channels):
        kick(runtime, tenant_id, channel)
    if channels:
        log.info("sweeper re-kicked %d channel(s)", len(channels))
    return len(channels)
