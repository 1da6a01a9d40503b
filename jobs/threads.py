"""Slack threads per QuickBooks object: the first message is the parent, later ones reply."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.runtime import Runtime
from jobs.messages import build_message
from jobs.models import Event, SlackThread
from jobs.slack_client import call

log = logging.getLogger(__name__)


def _parent_for(event: Event, *, db_session: Session) -> tuple[SlackThread | None, str | None]:
    """The thread this event belongs in, and the state its parent should show."""
    own = db_session.scalar(select(SlackThread).where(
        SlackThread.connection_id == event.connection_id,
        SlackThread.object_id == event.object_id,
        SlackThread.channel_id == event.channel_id,
    ))
    if own is not None and own.parent_event_id != event.id:
        state = {"deleted": "Deleted", "updated": "Updated"}.get(event.action)
        return own, state
    if own is not None:
        return None, None  # a replay of the parent itself posts as a new message
    # A payment is threaded under the first bill/invoice it pays that we posted.
    for applied in (event.payload or {}).get("applied_to") or []:
        parent = db_session.scalar(select(SlackThread).where(
            SlackThread.connection_id == event.connection_id,
            SlackThread.object_id == applied.get("txn_id"),
            SlackThread.channel_id == event.channel_id,
        ))
        if parent is not None:
            return parent, _paid_state(applied)
    return None, None


def _paid_state(applied: dict[str, Any]) -> str:
    try:
        remaining = Decimal(str(applied.get("balance_remaining")))
    except (InvalidOperation, ValueError):
        return "Payment applied"
    return "Paid" if remaining <= 0 else "Partially paid"


def message_for(event: Event, *, db_session: Session) -> tuple[dict[str, Any], str | None]:
    """The message body for an event and the thread_ts to post it under (if any)."""
    from jobs.delivery import multi_company

    parent, _ = _parent_for(event, db_session=db_session)
    body = build_message(
        event.payload or {}, action=event.action, object_type=event.object_type,
        multi_company=multi_company(event.tenant_id, db_session=db_session),
        replay=event.replay_count > 0,
    )
    return body, parent.parent_ts if parent else None


def remember(event: Event, ts: str, channel: str, *, db_session: Session) -> None:
    """Record a posted event; the first message about an object becomes its thread parent."""
    parent, state = _parent_for(event, db_session=db_session)
    if parent is not None:
        event.thread_ts = parent.parent_ts
        parent.state = state or parent.state
        return
    exists = db_session.scalar(select(SlackThread).where(
        SlackThread.connection_id == event.connection_id,
        SlackThread.object_id == event.object_id,
        SlackThread.channel_id == channel,
    ))
    if exists is None and event.action != "connected":
        db_session.add(SlackThread(
            tenant_id=event.tenant_id, connection_id=event.connection_id,
            object_id=event.object_id, channel_id=channel, parent_ts=ts,
            parent_event_id=event.id,
        ))


def update_parent(runtime: Runtime, client: Any, event_id: int, channel: str) -> None:
    """Show the object's current state on its thread parent (best effort)."""
    from jobs.delivery import multi_company

    with runtime.transaction() as db:
        event = db.get(Event, event_id)
        if event is None or not event.thread_ts:
            return
        parent = db.scalar(select(SlackThread).where(
            SlackThread.channel_id == channel, SlackThread.parent_ts == event.thread_ts,
            SlackThread.connection_id == event.connection_id,
        ))
        if parent is None or parent.parent_event_id is None:
            return
        parent_event = db.get(Event, parent.parent_event_id)
        if parent_event is None:
            return
        # An edit shows the object's new content; anything else keeps the parent's.
        same_object = event.object_id == parent.object_id and event.action == "updated"
        source = event if same_object else parent_event
        body = build_message(
            source.payload or {}, action=parent_event.action,
            object_type=parent_event.object_type,
            multi_company=multi_company(event.tenant_id, db_session=db), state=parent.state,
        )
        ts = parent.parent_ts
    outcome = call(client, "chat.update", channel=channel, ts=ts, **body)
    if outcome.kind != "ok":
        log.info("could not update thread parent %s in %s: %s", ts, channel, outcome.error)
