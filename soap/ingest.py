"""Turning parsed QuickBooks objects into outbox events, exactly once per version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import utcnow
from jobs.models import (
    ACTION_CONNECTED,
    ACTION_CREATED,
    ACTION_DELETED,
    ACTION_UPDATED,
    BASELINE,
    PENDING,
    Event,
)
from soap.qbtime import to_utc, wall_clock
from soap.qbxml.entities import ENTITIES
from soap.qbxml.responses import QbObject
from tenants.models import Connection

DEDUPE_KEY = ["tenant_id", "connection_id", "object_type", "object_id", "edit_sequence"]


def insert_events(rows: Sequence[dict[str, Any]], *, db_session: Session) -> list[tuple[int, str]]:
    """Insert event rows, skipping any already there; returns (id, status) of the new ones."""
    if not rows:
        return []
    dialect = db_session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(Event)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=DEDUPE_KEY)
        .returning(Event.id, Event.status)
    )
    return [(row.id, row.status) for row in db_session.execute(stmt)]


def events_for_objects(
    conn: Connection,
    objects: Sequence[QbObject],
    *,
    window_from: str | None,
    baseline: bool,
    db_session: Session,
) -> list[tuple[int, str]]:
    """Create the events of one page of objects; returns the new (id, status) pairs."""
    if not objects:
        return []
    ids = {o.object_id for o in objects}
    seen = set(
        db_session.scalars(
            select(Event.object_id).where(
                Event.connection_id == conn.id, Event.object_id.in_(ids)
            ).distinct()
        )
    )
    now = utcnow()
    rows = []
    for obj in objects:
        rows.append(_row(conn, obj, seen, window_from, baseline, now))
        seen.add(obj.object_id)  # a second version in the same page is an update
    return insert_events(rows, db_session=db_session)


def _row(
    conn: Connection,
    obj: QbObject,
    seen: set[str],
    window_from: str | None,
    baseline: bool,
    now: Any,
) -> dict[str, Any]:
    entity = ENTITIES.get(obj.entity)
    event_type = entity.event_type if entity else obj.entity
    if obj.is_deleted:
        action = ACTION_DELETED
    elif obj.object_id not in seen and _created_in_window(obj, window_from):
        action = ACTION_CREATED
    else:
        action = ACTION_UPDATED
    payload = dict(obj.payload)
    payload.update(
        object_type=obj.object_type,
        name=obj.name,
        ref_number=obj.ref_number,
        amount=obj.amount,
        currency=obj.currency,
        company=conn.company_name,
        action=action,
        time_modified=obj.time_modified,
    )
    return {
        "tenant_id": conn.tenant_id,
        "connection_id": conn.id,
        "event_type": event_type,
        "action": action,
        "object_type": obj.object_type,
        "object_id": obj.object_id[:64],
        "edit_sequence": obj.edit_sequence[:64],
        "ref_number": (obj.ref_number or None) and obj.ref_number[:64],
        "counterparty": (obj.name or None) and obj.name[:255],
        "amount": obj.amount,
        "qb_time_modified": obj.time_modified,
        "sort_key": to_utc(obj.time_modified) or now,
        "payload": payload,
        "status": BASELINE if baseline else PENDING,
        "created_at": now,
        "updated_at": now,
    }


def _created_in_window(obj: QbObject, window_from: str | None) -> bool:
    """New to us and created inside the window we asked for (not an old object edited)."""
    if not obj.time_created:
        return False
    if obj.time_created == obj.time_modified or window_from is None:
        return True
    try:
        return wall_clock(obj.time_created) >= wall_clock(window_from)
    except ValueError:
        return False


def connected_notice(
    conn: Connection, company: str, company_file: str | None, *, db_session: Session
) -> list[tuple[int, str]]:
    """The one "connected to <company>" event of a connection's first sync."""
    now = utcnow()
    row = {
        "tenant_id": conn.tenant_id,
        "connection_id": conn.id,
        "event_type": "notice",
        "action": ACTION_CONNECTED,
        "object_type": "Company",
        "object_id": conn.file_id,
        "edit_sequence": "connected",
        "counterparty": company[:255],
        "payload": {
            "company": company,
            "company_file": company_file,
            "connection": conn.company_name,
            "action": ACTION_CONNECTED,
            "object_type": "Company",
        },
        "status": PENDING,
        "sort_key": now,
        "created_at": now,
        "updated_at": now,
    }
    return insert_events([row], db_session=db_session)
