"""What delivery does with Slack's answer to one post: the event's new state and its audit.

Posted: the ts is stored (and the thread remembered). Rate-limited (429) and transient
answers (5xx, timeouts, no connection) keep the event pending, the channel's head: a 429
waits its Retry-After, anything else backs off exponentially (jitter, at most 5 minutes);
the event fails only once its run of such answers, counted from failing_since, has lasted
DELIVERY_GIVE_UP_HOURS. A refused token pauses the workspace. A permanent answer fails the
event at once; when it is about the channel (archived, not found, app not in it), every
pending event of that channel is parked with it, to be retried together, in order, when the
channel is fixed (jobs.parked). Time comes in as `now` (the runtime's clock).
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core import metrics
from jobs import threads
from jobs.enums import EventStatus
from jobs.models import DeliveryAttempt, Event
from jobs.service import pause_tenant
from jobs.slack_client import Outcome
from tenants.enums import TenantStatus
from tenants.models import Tenant

log = logging.getLogger(__name__)

BACKOFF_CAP = 300.0  # seconds: the longest wait between two tries of a transient failure
GIVE_UP_AFTER = dt.timedelta(hours=24)  # the default of DELIVERY_GIVE_UP_HOURS

# How the drain continues: ("wait", seconds) or ("stopped", 0); None: with the next event.
FollowUp = tuple[str, float] | None


def record_outcome(
    event_id: int,
    outcome: Outcome,
    channel: str,
    *,
    now: dt.datetime,
    give_up_after: dt.timedelta = GIVE_UP_AFTER,
    db_session: Session,
) -> FollowUp:
    """Store Slack's answer on the event and its audit; returns how the drain continues."""
    event = db_session.get(Event, event_id, with_for_update=True)
    assert event is not None
    replay = event.replay_count > 0
    metrics.record_delivery(outcome.kind if outcome.kind != "ok" else "posted")
    event.next_attempt_at = None  # the claim ends here

    def audit(result: str, *, status: int | None = None, error: str | None = None) -> None:
        add_attempt(
            db_session, event_id, result, channel, at=now, status=status, error=error, replay=replay
        )

    if event.status == EventStatus.POSTED or (
        event.status != EventStatus.PENDING and outcome.kind != "ok"
    ):
        # Someone else settled it meanwhile (only after a lost lock): audit, keep theirs.
        add_attempt(
            db_session,
            event_id,
            "duplicate" if outcome.kind == "ok" else outcome.kind,
            channel,
            at=now,
            ts=outcome.ts,
            status=outcome.http_status,
            error=outcome.error,
            replay=replay,
        )
        return None
    if outcome.kind == "ok":
        event.status, event.slack_ts, event.posted_at = EventStatus.POSTED, outcome.ts, now
        event.last_error, event.failing_since, event.failure_code = None, None, None
        event.attempts += 1
        add_attempt(
            db_session,
            event_id,
            "posted",
            channel,
            at=now,
            ts=outcome.ts,
            status=outcome.http_status,
            replay=replay,
        )
        threads.remember(event, outcome.ts or "", channel, db_session=db_session)
        return None
    if outcome.kind in ("ratelimited", "transient"):
        event.failing_since = event.failing_since or now
        if outcome.kind == "transient":
            event.attempts += 1
            event.last_error = outcome.reason
        if now - event.failing_since >= give_up_after:
            hours = give_up_after.total_seconds() / 3600
            event.status, event.failing_since = EventStatus.FAILED, None
            event.failure_code = "gave_up"
            event.last_error = (
                f"gave up after {hours:g} h of Slack errors ({event.attempts} tries); "
                f"last: {outcome.reason}"
            )
            audit("failed", status=outcome.http_status, error=event.last_error)
            log.warning(
                "delivery failed: %s",
                event.last_error,
                extra={"tenant": event.tenant_id, "event_id": event_id, "channel": channel},
            )
            return None
        if outcome.kind == "ratelimited":
            # Slack asked us to slow down: wait as told, no try counted.
            audit("ratelimited", status=429, error=f"Retry-After {outcome.retry_after:g}s")
            return "wait", outcome.retry_after or 1.0
        delay = backoff(event.attempts)
        event.next_attempt_at = now + dt.timedelta(seconds=delay)
        audit("retry", status=outcome.http_status, error=outcome.reason)
        return "wait", delay
    event.failing_since = None
    if outcome.kind == "auth":
        tenant = db_session.get(Tenant, event.tenant_id)
        assert tenant is not None
        tenant.status = TenantStatus.DISCONNECTED
        tenant.status_reason = f"Slack token no longer valid ({outcome.error})"
        audit("paused", error=outcome.error)
        pause_tenant(event.tenant_id, db_session=db_session)
        log.warning(
            "tenant %s disconnected: %s",
            tenant.team_id,
            outcome.error,
            extra={"tenant": tenant.id, "event_id": event_id, "channel": channel},
        )
        return "stopped", 0.0
    event.attempts += 1
    event.status, event.last_error = EventStatus.FAILED, outcome.reason
    event.failure_code = _code(outcome)
    audit("failed", status=outcome.http_status, error=f"{outcome.error}: {outcome.reason}")
    parked = 0
    if outcome.channel_refused:
        parked = _park_channel(event, outcome, channel, now=now, db_session=db_session)
    log.warning(
        "delivery failed: %s (%d more event(s) of the channel parked)",
        outcome.error,
        parked,
        extra={"tenant": event.tenant_id, "event_id": event_id, "channel": channel},
    )
    return None


def _park_channel(
    head: Event, outcome: Outcome, channel: str, *, now: dt.datetime, db_session: Session
) -> int:
    """Fail the channel's other pending events with its head: they would be refused too."""
    waiting = db_session.scalars(
        select(Event)
        .where(
            Event.tenant_id == head.tenant_id,
            Event.channel_id == channel,
            Event.status == EventStatus.PENDING,
            Event.id != head.id,
        )
        .order_by(Event.sort_key, Event.id)
        .with_for_update()
    ).all()
    for event in waiting:
        event.status, event.last_error = EventStatus.FAILED, outcome.reason
        event.failure_code = _code(outcome)
        event.next_attempt_at = event.failing_since = None
        add_attempt(
            db_session,
            event.id,
            "failed",
            channel,
            at=now,
            error=f"{outcome.error}: {outcome.reason} (parked with event {head.id})",
            replay=event.replay_count > 0,
        )
    return len(waiting)


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter: ~1 s, 2 s, 4 s … capped at 5 minutes."""
    ceiling = min(BACKOFF_CAP, 2.0 ** (min(attempts, 64) - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def add_attempt(
    db: Session,
    event_id: int,
    result: str,
    channel: str | None,
    *,
    at: dt.datetime | None = None,
    ts: str | None = None,
    status: int | None = None,
    error: str | None = None,
    replay: bool = False,
) -> None:
    """One row of an event's delivery audit (at: the runtime clock's now, when known)."""
    row = DeliveryAttempt(
        event_id=event_id,
        result=result,
        channel_id=channel,
        slack_ts=ts,
        http_status=status,
        error=(error or None) and error[:1000],
        replay=replay,
    )
    if at is not None:
        row.attempted_at = at
    db.add(row)


def _code(outcome: Outcome) -> str | None:
    """Slack's error code of a failure, as the events table keeps it."""
    return (outcome.error or "")[:40] or None
