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

Slack's answer is stored by jobs.outcomes: a 429 or a transient error (5xx, timeout, no
connection) leaves the event at the head of its channel, retried with backoff (at most 5
minutes apart) and failed only after DELIVERY_GIVE_UP_HOURS; the channel's later events
wait behind it (per-channel order), other channels keep flowing. A permanent error parks
the event as failed (with the rest of the channel when the channel itself refuses), and
a parked event no longer blocks its channel; jobs.parked retries parked events when the
cause is fixed. Backoff and give-up read the time from the runtime's clock.

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
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.core.coordination import Coordinator
from app.core.jobqueue import DELIVERY_QUEUE
from app.core.logs import log_context
from app.core.runtime import Runtime, current_runtime
from jobs import threads
from jobs.enums import EventStatus
from jobs.models import Event
from jobs.outcomes import add_attempt, record_outcome
from jobs.service import pause_tenant
from jobs.slack_client import Outcome, call, join_refused, make_client
from tenants.enums import TenantStatus
from tenants.installations import bot_token
from tenants.models import Tenant

log = logging.getLogger(__name__)

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
            now = runtime.clock.now()
            if head.next_attempt_at is not None and head.next_attempt_at > now:
                return "wait", (head.next_attempt_at - now).total_seconds()
            token = bot_token(tenant_id, cipher=runtime.cipher, db_session=db)
            if not token:
                pause_tenant(tenant_id, db_session=db)
                return "stopped", 0.0
            body = threads.message_for(head, db_session=db, now=now)
            prepared = _Prepared(head.id, *body, token)
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
        give_up = dt.timedelta(hours=runtime.settings.delivery_give_up_hours)
        with runtime.transaction() as db:
            follow_up = record_outcome(
                prepared.event_id,
                outcome,
                channel,
                now=runtime.clock.now(),
                give_up_after=give_up,
                db_session=db,
            )
        if outcome.kind == "ok":
            threads.update_parent(runtime, client, prepared.event_id, channel)
        if outcome.kind == "ratelimited":
            co.defer(key, outcome.retry_after or 1.0)
        if follow_up is not None:
            return follow_up
    return "wait", 0.0


def _head(tenant_id: int, channel: str, *, db_session: Session) -> Event | None:
    """The oldest pending event of a channel.

    Later events wait behind it, even while it waits for a retry; a failed (parked) event
    is not pending, so it blocks nothing.
    """
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
    now = runtime.clock.now()
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
    """not_in_channel: join the (public) channel and post once more.

    A join that Slack could not do now (429, 5xx, no connection) is retried like a post;
    a refused one (a private channel) is the permanent not_in_channel.
    """
    joined = call(client, "conversations.join", channel=args["channel"])
    with runtime.transaction() as db:
        add_attempt(
            db,
            event_id,
            "joined" if joined.kind == "ok" else "join_failed",
            args["channel"],
            at=runtime.clock.now(),
            status=joined.http_status,
            error=joined.error,
        )
    if joined.kind != "ok":
        return join_refused(joined)
    interval = runtime.settings.slack_post_interval
    wait = co.take_slot(key, interval)
    if wait > 0:
        time.sleep(min(wait, interval))
        co.take_slot(key, interval)
    retry = call(client, "chat.postMessage", **args)
    if retry.kind == "not_in_channel":
        return Outcome("permanent", error="not_in_channel", http_status=retry.http_status)
    return retry
