"""Parked events back on their way once their cause is fixed.

An event fails at once, parked with the rest of its channel, when the channel refuses it
(archived, not found, the app not in it: jobs.slack_client.CHANNEL_CODES, kept as the
event's failure_code). It is retried,
in QuickBooks order, when Slack says the channel is fixed (unarchived, the app invited:
app.slack.lifecycle), when the workspace is reinstalled, and when routes change; a route
change also sends the unrouted events that a route now covers. Other failures (a message
Slack refused, giving up after a long outage) stay for `/qb-replay failed`.

The caller commits, then schedules the ids returned (jobs.outbox.schedule_events), as it
does for a replay. A retry is not a replay: the message is not marked "posted again".
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from jobs.enums import EventStatus
from jobs.models import Event
from jobs.outcomes import add_attempt
from jobs.routing import RouteCache, channel_for
from jobs.slack_client import CHANNEL_CODES, CHANNEL_REASONS

# The last_error of an event parked because of its channel.
CHANNEL_FAILURES = tuple(CHANNEL_REASONS.values())


def retry_parked(
    tenant_id: int,
    *,
    channel_id: str | None = None,
    reason: str = "channel fixed",
    db_session: Session,
) -> list[int]:
    """Events parked because of a channel (that one, or any) back to pending, same channel."""
    stmt = _parked(tenant_id)
    if channel_id is not None:
        stmt = stmt.where(Event.channel_id == channel_id)
    retried = []
    for event in db_session.scalars(stmt):
        _requeue(event, event.channel_id, reason, db_session=db_session)
        retried.append(event.id)
    db_session.flush()
    return retried


def retry_routable(
    tenant_id: int, *, reason: str = "routes changed", db_session: Session
) -> list[int]:
    """After a route change: parked and unrouted events that a route covers now, re-routed.

    An event goes to the channel the current routes give it (perhaps the same one again,
    the admin may have fixed it meanwhile); one that no route covers stays as it was.
    """
    parked = _parked(tenant_id)
    unrouted = select(Event).where(
        Event.tenant_id == tenant_id, Event.status == EventStatus.UNROUTED
    )
    cache: RouteCache = {}
    retried = []
    for stmt in (parked, unrouted.order_by(Event.sort_key, Event.id).with_for_update()):
        for event in db_session.scalars(stmt):
            channel = channel_for(event, db_session=db_session, cache=cache)
            if channel is not None:
                _requeue(event, channel, reason, db_session=db_session)
                retried.append(event.id)
    db_session.flush()
    return retried


def _parked(tenant_id: int) -> Select[Event]:
    return (
        select(Event)
        .where(
            Event.tenant_id == tenant_id,
            Event.status == EventStatus.FAILED,
            # Rows failed before failure_code existed are known by their sentence.
            or_(Event.failure_code.in_(CHANNEL_CODES), Event.last_error.in_(CHANNEL_FAILURES)),
        )
        .order_by(Event.sort_key, Event.id)
        .with_for_update()
    )


def _requeue(event: Event, channel: str | None, reason: str, *, db_session: Session) -> None:
    add_attempt(db_session, event.id, "retry_requested", channel, error=reason[:200])
    if channel != event.channel_id:
        event.thread_ts = None  # threads live in one channel
    event.channel_id = channel
    event.status = EventStatus.PENDING
    event.next_attempt_at = event.failing_since = None
    event.last_error = event.failure_code = None
