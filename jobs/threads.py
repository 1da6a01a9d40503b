"""Slack threads per QuickBooks object: the first message is the parent, later ones reply.

A thread lives in one channel: a payment is threaded under the bill or invoice it pays
when both were routed to the same channel (otherwise it is a message of its own there).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.runtime import Runtime
from jobs.enums import AlertPhase, EventAction, EventStatus
from jobs.messages import amount_value, build_message
from jobs.models import Event, SlackThread
from jobs.slack_client import call
from tenants.service import has_several_companies

log = logging.getLogger(__name__)

# What a deletion record lacks and the object's earlier events knew.
KEPT_ON_DELETE = ("name", "amount", "currency", "ref_number", "txn_date", "due_date")


def _thread(
    connection_id: int, object_id: str | None, channel: str | None, *, db_session: Session
) -> SlackThread | None:
    if not object_id or not channel:
        return None
    return db_session.scalar(
        select(SlackThread).where(
            SlackThread.connection_id == connection_id,
            SlackThread.object_id == object_id,
            SlackThread.channel_id == channel,
        )
    )


def _decimal(value: Any) -> Decimal | None:
    """A payload's amount, or None: never NaN, an infinity or a number too big to show."""
    return amount_value(value)


def _balance_state(remaining: Decimal | None, total: Decimal | None) -> str | None:
    if remaining is None:
        return None
    if remaining <= 0:
        return "Paid"
    return "Partially paid" if total is None or remaining < total else None


def parent_for(
    event: Event, *, db_session: Session
) -> tuple[SlackThread | None, str | None, dict[str, Any]]:
    """The thread this event replies in, the parent's new state, and payload overrides."""
    own = _thread(event.connection_id, event.object_id, event.channel_id, db_session=db_session)
    if own is not None:
        if own.parent_event_id == event.id:
            return None, None, {}  # a replay of the parent itself posts as a new message
        if event.action == EventAction.ALERT:
            # Reminders reply and leave the alert as it is; "resolved" marks it resolved.
            resolved = (event.payload or {}).get("phase") == AlertPhase.RESOLVED
            return own, "Resolved" if resolved else None, {}
        if event.action == EventAction.DELETED:
            return own, "Deleted", {}
        p = event.payload or {}
        total = _decimal(p.get("amount"))
        state = (
            "Paid"
            if p.get("is_paid") is True
            else _balance_state(_decimal(p.get("open_amount")), total)
        )
        return own, state or "Updated", {}
    # A payment replies under the first bill/invoice it pays that was posted here.
    for applied in (event.payload or {}).get("applied_to") or []:
        if not isinstance(applied, dict):
            continue
        parent = _thread(
            event.connection_id, applied.get("txn_id"), event.channel_id, db_session=db_session
        )
        if parent is None:
            continue
        remaining = _decimal(applied.get("balance_remaining"))
        if remaining is None:
            remaining = _remaining_from_history(event, parent, applied, db_session=db_session)
        state = _balance_state(remaining, None) or "Payment applied"
        overrides: dict[str, Any] = {}
        if remaining is not None:
            overrides["open_amount"] = str(max(remaining, Decimal(0)))
            overrides["is_paid"] = remaining <= 0
        return parent, state, overrides
    return None, None, {}


def _remaining_from_history(
    event: Event, parent: SlackThread, applied: dict[str, Any], *, db_session: Session
) -> Decimal | None:
    """Open balance when QuickBooks did not say: the bill's, less the payments posted to it."""
    origin = db_session.get(Event, parent.parent_event_id) if parent.parent_event_id else None
    if origin is None:
        return None
    p = origin.payload or {}
    balance = _decimal(p.get("open_amount"))
    balance = balance if balance is not None else _decimal(p.get("amount"))
    paid_now = _decimal(applied.get("amount"))
    if balance is None or paid_now is None:
        return None
    earlier = db_session.scalars(
        select(Event).where(
            Event.connection_id == event.connection_id,
            Event.channel_id == parent.channel_id,
            Event.thread_ts == parent.parent_ts,
            Event.status == EventStatus.POSTED,
            Event.id != event.id,
        )
    )
    for other in earlier:
        for a in (other.payload or {}).get("applied_to") or []:
            if isinstance(a, dict) and a.get("txn_id") == parent.object_id:
                balance -= _decimal(a.get("amount")) or Decimal(0)
    return balance - paid_now


def _with_history(event: Event, *, db_session: Session) -> dict[str, Any]:
    """The event's payload; a deletion borrows name, amount and dates from earlier events."""
    payload = dict(event.payload or {})
    if event.action != EventAction.DELETED:
        return payload
    earlier = db_session.scalar(
        select(Event)
        .where(
            Event.connection_id == event.connection_id,
            Event.object_id == event.object_id,
            Event.action != EventAction.DELETED,
            Event.id != event.id,
        )
        .order_by(Event.sort_key.desc(), Event.id.desc())
        .limit(1)
    )
    if earlier is not None:
        for key in KEPT_ON_DELETE:
            if payload.get(key) in (None, "") and (earlier.payload or {}).get(key):
                payload[key] = earlier.payload[key]
    return payload


def message_for(
    event: Event, *, db_session: Session, now: dt.datetime | None = None
) -> tuple[dict[str, Any], str | None]:
    """The message body for an event and the thread_ts to post it under (if any).

    `now` is the posting time due dates count from ("due in 3 days"); default: the clock's.
    """
    parent, _, _ = parent_for(event, db_session=db_session)
    body = build_message(
        _with_history(event, db_session=db_session),
        action=event.action,
        object_type=event.object_type,
        multi_company=has_several_companies(event.tenant_id, db_session=db_session),
        replay=event.replay_count > 0,
        now=now,
    )
    return body, parent.parent_ts if parent else None


def remember(event: Event, ts: str, channel: str, *, db_session: Session) -> None:
    """Record a posted event; the first message about an object becomes its thread parent."""
    parent, state, _ = parent_for(event, db_session=db_session)
    if parent is not None:
        event.thread_ts = parent.parent_ts
        parent.state = state or parent.state
        return
    exists = _thread(event.connection_id, event.object_id, channel, db_session=db_session)
    if exists is None and event.action != EventAction.CONNECTED:
        db_session.add(
            SlackThread(
                tenant_id=event.tenant_id,
                connection_id=event.connection_id,
                object_id=event.object_id,
                channel_id=channel,
                parent_ts=ts,
                parent_event_id=event.id,
            )
        )


def update_parent(runtime: Runtime, client: Any, event_id: int, channel: str) -> None:
    """Show the object's current state on its thread parent (best effort)."""
    with runtime.transaction() as db:
        event = db.get(Event, event_id)
        if event is None or not event.thread_ts:
            return
        parent = db.scalar(
            select(SlackThread).where(
                SlackThread.channel_id == channel,
                SlackThread.parent_ts == event.thread_ts,
                SlackThread.connection_id == event.connection_id,
            )
        )
        if parent is None or parent.parent_event_id is None:
            return
        parent_event = db.get(Event, parent.parent_event_id)
        if parent_event is None:
            return
        _, state, overrides = parent_for(event, db_session=db)
        if event.action == EventAction.ALERT and state is None:
            return  # a reminder: the alert itself is unchanged
        # An edit shows the object's new content; anything else keeps the parent's.
        same_object = event.object_id == parent.object_id and event.action not in (
            EventAction.DELETED,
            EventAction.ALERT,  # "resolved" marks the alert; its words stay
        )
        payload = dict((event if same_object else parent_event).payload or {})
        payload.update(overrides)
        body = build_message(
            payload,
            action=parent_event.action,
            object_type=parent_event.object_type,
            multi_company=has_several_companies(event.tenant_id, db_session=db),
            state=state or parent.state,
            replay=False,
            now=runtime.clock.now(),
        )
        ts = parent.parent_ts
    outcome = call(client, "chat.update", channel=channel, ts=ts, **body)
    if outcome.kind != "ok":
        log.info("could not update thread parent %s in %s: %s", ts, channel, outcome.error)
