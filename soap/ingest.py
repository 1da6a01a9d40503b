"""Turning parsed QuickBooks objects into outbox events, exactly once per object version."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.core import metrics
from app.core.db import utcnow
from jobs.enums import EventAction, EventStatus
from jobs.outbox import Created, EventRow, add_events, known_object_ids
from soap.plan import ahead
from soap.qbtime import to_utc, wall_clock
from soap.qbxml.entities import ENTITIES
from soap.qbxml.limits import MAX_PAYLOAD_BYTES, cap_payload, shown
from soap.qbxml.responses import QbObject
from tenants.enums import EventType
from tenants.models import Connection

log = logging.getLogger(__name__)


def events_for_objects(
    conn: Connection,
    objects: Sequence[QbObject],
    *,
    window_from: str | None,
    baseline: bool,
    db_session: Session,
) -> list[Created]:
    """Create the events of one page of objects; returns the ones that are new."""
    if not objects:
        return []
    seen = known_object_ids(conn.id, {o.object_id[:64] for o in objects}, db_session=db_session)
    now = utcnow()
    rows: list[EventRow] = []
    for obj in objects:
        rows.append(
            event_row(
                conn,
                obj,
                seen=obj.object_id[:64] in seen,
                window_from=window_from,
                baseline=baseline,
                now=now,
            )
        )
        seen.add(obj.object_id[:64])  # a second version in the same page is an update
    return add_events(rows, db_session=db_session)


def event_row(
    conn: Connection,
    obj: QbObject,
    *,
    seen: bool,
    window_from: str | None,
    baseline: bool,
    now: dt.datetime,
) -> EventRow:
    """The events-table row of one QuickBooks object (or deletion record)."""
    entity = ENTITIES.get(obj.entity)
    # Deletions carry their object's entity, so they route where their type goes.
    event_type = entity.event_type if entity else obj.entity
    if obj.is_deleted:
        action = EventAction.DELETED
    elif not seen and _created_in_window(obj, window_from):
        action = EventAction.CREATED
    else:
        action = EventAction.UPDATED
    payload = dict(obj.payload)
    payload.update(
        object_type=obj.object_type,
        name=obj.name,
        ref_number=obj.ref_number,
        amount=obj.amount,
        currency=obj.currency,
        company=conn.company_name,
        qb_country=conn.qb_country,  # the home currency's symbol, when no currency is named
        action=action,
        time_modified=obj.time_modified,
    )
    payload, cut = cap_payload(payload)
    if cut:
        metrics.record_input_capped("payload")
        log.warning(
            "the payload of %s %s was cut to %d bytes",
            shown(obj.object_type, 24),
            shown(obj.object_id, 24),
            MAX_PAYLOAD_BYTES,
            extra={"tenant": conn.tenant_id, "connection": conn.id},
        )
    # Per-channel order is QuickBooks' own modification order, in UTC; a time from a PC
    # clock set days ahead sorts as now.
    sort_key = to_utc(obj.time_modified)
    if sort_key is None or ahead(obj.time_modified, now):
        sort_key = now
    return {
        "tenant_id": conn.tenant_id,
        "connection_id": conn.id,
        "event_type": event_type,
        "action": action,
        "object_type": obj.object_type[:48],
        "object_id": obj.object_id[:64],
        "edit_sequence": obj.edit_sequence[:64],
        "ref_number": obj.ref_number[:64] if obj.ref_number else None,
        "counterparty": obj.name[:255] if obj.name else None,
        "amount": obj.amount[:32] if obj.amount else None,
        "qb_time_modified": obj.time_modified[:40] if obj.time_modified else None,
        "sort_key": sort_key,
        "payload": payload,
        "status": EventStatus.BASELINE if baseline else EventStatus.PENDING,
        "created_at": now,
        "updated_at": now,
    }


def _created_in_window(obj: QbObject, window_from: str | None) -> bool:
    """New to us, and created inside the polled window (not an old object edited)."""
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
) -> list[Created]:
    """The one "connected to <company>" event of a connection's first sync."""
    now = utcnow()
    row: EventRow = {
        "tenant_id": conn.tenant_id,
        "connection_id": conn.id,
        "event_type": EventType.NOTICE,
        "action": EventAction.CONNECTED,
        "object_type": "Company",
        "object_id": conn.file_id,
        "edit_sequence": "connected",
        "counterparty": company[:255],
        "payload": {
            "company": company,
            "company_file": company_file,
            "connection": conn.company_name,
            "action": EventAction.CONNECTED,
            "object_type": "Company",
        },
        "status": EventStatus.PENDING,
        "sort_key": now,
        "created_at": now,
        "updated_at": now,
    }
    return add_events([row], db_session=db_session)
