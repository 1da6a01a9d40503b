"""Delivery: posting outbox events to Slack, once each, in order, one per second per channel.

Design. The events table is the truth; queued jobs are only hints. An event is routed when
it is scheduled (channel_id stored; or parked as unrouted/skipped/paused). Each (workspace,
channel) pair then has one *drain* job at a time (a lock in Redis): it takes the oldest
pending event of the channel (QuickBooks modification order, then id), reserves the
channel's next one-second slot in the shared limiter (app.core.coordination), posts without
holding a DB transaction, and stores Slack's ts in the transaction that marks the event
posted. When the channel must wait (slot taken, 429 Retry-After, backoff after a 5xx) the
drain does not sleep: it releases the lock and schedules itself for the moment the channel
is free, so a worker always serves whichever channel is ready. Waits under TINY_WAIT are
slept, since re-queueing would cost more than they do.

Exactly once: before posting, the drain leases the event in the database (next_attempt_at
= now + CLAIM, a conditional UPDATE), so even a drain that got the channel after its Redis
lock was lost (flush, expiry) cannot post it a second time; the answer clears the lease in
the transaction that stores the ts. A crash after Slack took the post and before that
commit is the only window for a duplicate (the lease expires, the event is posted again).

Kicks are deduplicated by a per-channel mark holding the due time of the next run
(immediate or delayed alike): N new events, a sweep and a pending retry make one job, yet a
need sooner than the noted run still enqueues. RQ's own scheduler polls about once a second,
which would halve a channel's rate; delayed jobs therefore wait in a Redis sorted set that
every worker promotes every 50 ms (app.core.jobqueue, jobs.background). The sweeper (jobs.sweeper)
re-kicks channels whose events are pending but whose hint was lost (Redis flush, crash).
Embedded mode runs the same functions on the in-process queue with an in-memory coordinator.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.core import metrics
from app.core.coordination import Coordinator
from app.core.db import utcnow
from app.core.jobqueue import DELIVERY_QUEUE
from app.core.logs import log_context
from app.core.runtime import Runtime, current_runtime
from jobs import threads
from jobs.enums import EventStatus
from jobs.models import DeliveryAttempt, Event
from jobs.service import pause_tenant
from jobs.slack_client import Outcome, call, make_client
from tenants.enums import TenantStatus
from tenants.installations import bot_token
from tenants.models import Tenant

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # 5xx / network errors before an event is marked failed
LOCK_TTL = 60.0
RUN_BUDGET = 10.0  # a drain yields its worker after this long, then continues in a new job
TINY_WAIT = 0.25  # waits shorter than this are slept, not rescheduled
BUSY_RETRY = 0.5  # another drain holds the channel: look again this much later
MARK_TTL = 30.0  # a queued mark outlives its job's due time by this much (lost-job safety)
CLAIM = dt.timedelta(seconds=60)  # an event being posted is not due for others this long


def kick(runtime: Runtime, tenant_id: int, channel: str, *, delay: float = 0.0) -> bool:
    """Enqueue the drain of a channel unless one is already queued; True if enqueued."""
    key = f"{tenant_id}:{channel}"
    delay = max(delay, 0.0)
    if not runtime.coordinator.want_run("queued:" + key, time.time() + delay, delay + MARK_TTL):
        return False  # a drain due no later will see the new events
    runtime.jobs.enqueue(drain_channel, tenant_id, channel, delay=delay, queue=DELIVERY_QUEUE)
    return True


def drain_channel(tenant_id: int, channel: str) -> str:
    """RQ job: post a channel's pending events while it may, then hand over."""
    with log_context(tenant=tenant_id, channel=channel, job="drain"):
        return _drain_channel(tenant_id, channel)


def _drain_channel(tenant_id: int, channel: str) -> str:
    runtime = current_runtime()
    co = runtime.coordinator
    key = f"{tenant_id}:{channel}"
    co.started("queued:" + key)  # kicks from now on may need a new job
    token = co.lock("drain:" + key, LOCK_TTL)
    if token is None:
        # Another drain is running; look again shortly in case it checked for work just
        # before the events that woke us were committed.
        kick(runtime, tenant_id, channel, delay=BUSY_RETRY)
        return "busy"
    try:
        state, wait = _drain(runtime, co, tenant_id, channel)
    finally:
        co.unlock("drain:" + key, token)
    if state == "wait":
        kick(runtime, tenant_id, channel, delay=max(wait, 0.01))
    return state


@dataclass
class _Prepared:
    event_id: int
    body: dict[str, Any]
    thread_ts: str | None
    token: str


def _drain(runtime: Runtime, co: Coordinator, tenant_id: int, channel: str) -> tuple[str, float]:
    started = time.monotonic()
    key = f"{tenant_id}:{channel}"
    while time.monotonic() - started < RUN_BUDGET:
        with runtime.transaction() as db:
            head = _head(tenant_id, channel, db_session=db)
            if head is None:
                return "idle", 0.0
            tenant = db.get(Tenant, tenant_id)
            assert tenant is not None
            if tenant.status != TenantStatus.ACTIVE:
                pause_tenant(tenant_id, db_session=db)
                return "stopped", 0.0
            now = utcnow()
            if head.next_attempt_at is not None and head.next_attempt_at > now:
                return "wait", (head.next_attempt_at - now).total_seconds()
            token = bot_token(tenant_id, cipher=runtime.cipher, db_session=db)
            if not token:
                pause_tenant(tenant_id, db_session=db)
                return "stopped", 0.0
            prepared = _Prepared(head.id, *threads.message_for(head, db_session=db), token)
        interval = runtime.settings.slack_post_interval
        wait = co.take_slot(key, interval)
        if 0 < wait <= TINY_WAIT:
            time.sleep(wait)
            wait = co.take_slot(key, interval)
        if wait > 0:
            return "wait", wait
        if not _claim(runtime, prepared.event_id):
            return "wait", BUSY_RETRY  # another drain is posting it (its lock was lost)
        client = make_client(runtime.settings.slack_api_url, prepared.token)
        args: dict[str, Any] = {"channel": channel, "unfurl_links": False, **prepared.body}
        if prepared.thread_ts:
            args["thread_ts"] = prepared.thread_ts
        outcome = call(client, "chat.postMessage", **args)
        if outcome.kind == "not_in_channel":
            outcome = _join_and_retry(client, co, key, args, prepared.event_id, runtime)
        with runtime.transaction() as db:
            follow_up = record_outcome(prepared.event_id, outcome, channel, db_session=db)
        if outcome.kind == "ok":
            threads.update_parent(runtime, client, prepared.event_id, channel)
        if outcome.kind == "ratelimited":
            co.defer(key, outcome.retry_after or 1.0)
        if follow_up is not None:
            return follow_up
    return "wait", 0.0


def _head(tenant_id: int, channel: str, *, db_session: Session) -> Event | None:
    """The oldest pending event of a channel."""
    return db_session.scalar(
        select(Event)
        .where(
            Event.tenant_id == tenant_id,
            Event.channel_id == channel,
            Event.status == EventStatus.PENDING,
        )
        .order_by(Event.sort_key, Event.id)
        .limit(1)
    )


def _claim(runtime: Runtime, event_id: int) -> bool:
    """Lease the event for one post, in the DB: the guard if the Redis lock was lost.

    A crash while posting leaves the lease to expire (CLAIM), then the event is retried.
    """
    now = utcnow()
    with runtime.transaction() as db:
        result = db.execute(
            update(Event)
            .where(
                Event.id == event_id,
                Event.status == EventStatus.PENDING,
                or_(Event.next_attempt_at.is_(None), Event.next_attempt_at <= now),
            )
            .values(next_attempt_at=now + CLAIM)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def _join_and_retry(
    client: Any, co: Coordinator, key: str, args: dict[str, Any], event_id: int, runtime: Runtime
) -> Outcome:
    """not_in_channel: join the (public) channel and post once more."""
    joined = call(client, "conversations.join", channel=args["channel"])
    with runtime.transaction() as db:
        _attempt(
            db,
            event_id,
            "joined" if joined.kind == "ok" else "join_failed",
            args["channel"],
            error=joined.error,
        )
    if joined.kind != "ok":
        return Outcome("permanent", error="not_in_channel")
    interval = runtime.settings.slack_post_interval
    wait = co.take_slot(key, interval)
    if wait > 0:
        time.sleep(min(wait, interval))
        co.take_slot(key, interval)
    retry = call(client, "chat.postMessage", **args)
    if retry.kind == "not_in_channel":
        return Outcome("permanent", error="not_in_channel")
    return retry


def record_outcome(
    event_id: int, outcome: Outcome, channel: str, *, db_session: Session
) -> tuple[str, float] | None:
    """Store Slack's answer on the event and its audit; returns how the drain continues."""
    event = db_session.get(Event, event_id, with_for_update=True)
    assert event is not None
    now = utcnow()
    replay = event.replay_count > 0
    metrics.record_delivery(outcome.kind if outcome.kind != "ok" else "posted")
    event.next_attempt_at = None  # the claim ends here
    if event.status == EventStatus.POSTED or (
        event.status != EventStatus.PENDING and outcome.kind != "ok"
    ):
        # Someone else settled it meanwhile (only after a lost lock): audit, keep theirs.
        _attempt(
            db_session,
            event_id,
            "duplicate" if outcome.kind == "ok" else outcome.kind,
            channel,
            ts=outcome.ts,
            status=outcome.http_status,
            error=outcome.error,
            replay=replay,
        )
        return None
    if outcome.kind == "ok":
        event.status, event.slack_ts, event.posted_at = EventStatus.POSTED, outcome.ts, now
        event.last_error, event.next_attempt_at = None, None
        event.attempts += 1
        _attempt(
            db_session,
            event_id,
            "posted",
            channel,
            ts=outcome.ts,
            status=outcome.http_status,
            replay=replay,
        )
        threads.remember(event, outcome.ts or "", channel, db_session=db_session)
        return None
    if outcome.kind == "ratelimited":
        # Not a failure: Slack asked us to slow down.
        _attempt(
            db_session,
            event_id,
            "ratelimited",
            channel,
            status=429,
            replay=replay,
            error=f"Retry-After {outcome.retry_after:g}s",
        )
        return "wait", outcome.retry_after or 1.0
    if outcome.kind == "transient":
        event.attempts += 1
        event.last_error = outcome.reason
        if event.attempts >= MAX_ATTEMPTS:
            event.status, event.next_attempt_at = EventStatus.FAILED, None
            _attempt(
                db_session,
                event_id,
                "failed",
                channel,
                status=outcome.http_status,
                error=f"gave up after {event.attempts} attempts: {outcome.reason}",
                replay=replay,
            )
            return None
        delay = backoff(event.attempts)
        event.next_attempt_at = now + dt.timedelta(seconds=delay)
        _attempt(
            db_session,
            event_id,
            "retry",
            channel,
            status=outcome.http_status,
            error=outcome.reason,
            replay=replay,
        )
        return "wait", delay
    if outcome.kind == "auth":
        tenant = db_session.get(Tenant, event.tenant_id)
        assert tenant is not None
        tenant.status = TenantStatus.DISCONNECTED
        tenant.status_reason = f"Slack token no longer valid ({outcome.error})"
        _attempt(db_session, event_id, "paused", channel, error=outcome.error, replay=replay)
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
    _attempt(
        db_session,
        event_id,
        "failed",
        channel,
        status=outcome.http_status,
        error=f"{outcome.error}: {outcome.reason}",
        replay=replay,
    )
    log.warning(
        "delivery failed: %s",
        outcome.error,
        extra={"tenant": event.tenant_id, "event_id": event_id, "channel": channel},
    )
    return None


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter: ~1 s, 2 s, 4 s … capped at 5 minutes."""
    ceiling = min(300.0, 2.0 ** (attempts - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _attempt(
    db: Session,
    event_id: int,
    result: str,
    channel: str | None,
    *,
    ts: str | None = None,
    status: int | None = None,
    error: str | None = None,
    replay: bool = False,
) -> None:
    db.add(
        DeliveryAttempt(
            event_id=event_id,
            result=result,
            channel_id=channel,
            slack_ts=ts,
            http_status=status,
            error=(error or None) and error[:1000],
            replay=replay,
        )
    )
