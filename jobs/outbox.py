"""The outbox's public face: adding events exactly once, and handing them to delivery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple, NotRequired, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import dialect_insert
from app.core.runtime import Runtime
from jobs.delivery import kick
from jobs.models import Event
from jobs.routing import route_events

# The unique key of events: one object version (EditSequence) is one event, ever.
DEDUPE_KEY = ["tenant_id", "connection_id", "object_type", "object_id", "edit_sequence"]


class EventRow(TypedDict):
    """One events-table row to add (the columns a producer fills)."""

    tenant_id: int
    connection_id: int
    event_type: str
    action: str
    object_type: str
    object_id: str
    edit_sequence: str
    counterparty: str | None
    payload: dict[str, Any]
    status: str
    sort_key: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime
    ref_number: NotRequired[str | None]
    amount: NotRequired[str | None]
    qb_time_modified: NotRequired[str | None]
    channel_id: NotRequired[str | None]  # already routed (tests, benchmarks)


class Created(NamedTuple):
    """An event this call inserted (not one that was already there)."""

    id: int
    status: str
    event_type: str


def add_events(rows: Sequence[EventRow], *, db_session: Session) -> list[Created]:
    """INSERT ... ON CONFLICT DO NOTHING on the dedupe key; returns the rows really added."""
    if not rows:
        return []
    # One cached statement, executed over all rows (SQLAlchemy batches them into multi-row
    # INSERTs): a VALUES list built per page would be compiled anew every time.
    stmt = (
        dialect_insert(db_session)(Event)
        .on_conflict_do_nothing(index_elements=DEDUPE_KEY)
        .returning(Event.id, Event.status, Event.event_type)
    )
    return [Created(r.id, r.status, r.event_type) for r in db_session.execute(stmt, list(rows))]


def known_object_ids(
    connection_id: int, object_ids: Collection[str], *, db_session: Session
) -> set[str]:
    """Which of these QuickBooks object ids already have an event for this connection."""
    return set(
        db_session.scalars(
            select(Event.object_id)
            .where(
                Event.connection_id == connection_id,
                Event.object_id.in_(set(object_ids)),
            )
            .distinct()
        )
    )


def schedule_events(runtime: Runtime, event_ids: list[int]) -> None:
    """Route newly committed events and wake their channels' drains (call after commit)."""
    if not event_ids:
        return
    with runtime.transaction() as db:
        channels = route_events(event_ids, db_session=db)
    for tenant_id, channel in sorted(channels):
        kick(runtime, tenant_id, channel)
