"""Replay: post failed, named or date-ranged events again through the normal path."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.core.db import utcnow
from jobs.enums import EventStatus
from jobs.models import DeliveryAttempt, Event
from tenants.enums import EventType

REPLAYABLE = (EventStatus.FAILED, EventStatus.POSTED, EventStatus.UNROUTED)
# Naming an object asks for it even if it was never posted (first-sync or opt-in type).
NAMED_REPLAYABLE = (*REPLAYABLE, EventStatus.SKIPPED, EventStatus.BASELINE)


def replay_event_ids(
    ids: list[int],
    *,
    db_session: Session,
    reason: str = "replay",
    tenant_id: int | None = None,
    allowed: tuple[str, ...] = NAMED_REPLAYABLE,
) -> list[int]:
    """Mark events for re-posting (a new message or reply); returns the ids marked.

    Each is routed again by the current routes (a failed channel may have been replaced),
    gets replay_count + 1 and a "replay_requested" audit row; the caller schedules the ids
    after its commit. Pending and paused events are left alone: they are on their way.
    """
    if not ids:
        return []
    stmt = select(Event).where(Event.id.in_(ids), Event.status.in_(allowed))
    if tenant_id is not None:
        stmt = stmt.where(Event.tenant_id == tenant_id)
    marked = []
    for event in db_session.scalars(stmt.order_by(Event.sort_key, Event.id).with_for_update()):
        db_session.add(
            DeliveryAttempt(
                event_id=event.id,
                result="replay_requested",
                channel_id=event.channel_id,
                error=reason[:200],
                replay=True,
            )
        )
        event.status = EventStatus.PENDING
        event.replay_count += 1
        event.attempts = 0
        event.next_attempt_at = None
        event.last_error = event.failure_code = None
        event.channel_id = None  # routed again when scheduled
        event.thread_ts = None
        marked.append(event.id)
    db_session.flush()
    return marked


def replay_failed(
    tenant_id: int, *, db_session: Session, connection_id: int | None = None
) -> list[int]:
    """Every failed or unrouted event of a workspace (or of one of its company files)."""
    stmt = select(Event.id).where(
        Event.tenant_id == tenant_id,
        Event.status.in_((EventStatus.FAILED, EventStatus.UNROUTED)),
    )
    if connection_id is not None:
        stmt = stmt.where(Event.connection_id == connection_id)
    ids = list(db_session.scalars(stmt.order_by(Event.sort_key)))
    return replay_event_ids(ids, db_session=db_session, reason="replay failed", tenant_id=tenant_id)


def replay_object(
    tenant_id: int, key: str, *, db_session: Session, connection_id: int | None = None
) -> list[int]:
    """The latest event of the object with that TxnID, ListID or RefNumber."""
    key = key.strip()
    if not key:
        return []
    stmt = select(Event).where(
        Event.tenant_id == tenant_id,
        Event.event_type != EventType.NOTICE,
        or_(Event.object_id == key, Event.ref_number == key),
    )
    if connection_id is not None:
        stmt = stmt.where(Event.connection_id == connection_id)
    event = db_session.scalar(stmt.order_by(Event.sort_key.desc(), Event.id.desc()).limit(1))
    if event is None:
        return []  # unknown; or its latest event is still on its way (pending, paused)
    return replay_event_ids(
        [event.id], db_session=db_session, reason=f"replay {key}", tenant_id=tenant_id
    )


def replay_since(tenant_id: int, since: dt.date, *, db_session: Session) -> list[int]:
    """Everything received since a date (UTC), in QuickBooks order."""
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    if start > utcnow():
        return []
    ids = list(
        db_session.scalars(
            select(Event.id)
            .where(
                Event.tenant_id == tenant_id,
                Event.created_at >= start,
                Event.status.in_(REPLAYABLE),
            )
            .order_by(Event.sort_key, Event.id)
        )
    )
    return replay_event_ids(
        ids,
        db_session=db_session,
        reason=f"replay since {since}",
        tenant_id=tenant_id,
        allowed=REPLAYABLE,
    )


# -- what `/qb-replay failed|since` shows before it replays, and replays on the click ------

MAX_MATCHES_SCANNED = 1000  # events read to find the objects a reference names


@dataclass(frozen=True)
class Selection:
    """Which events a `/qb-replay failed` or `since` asks for: re-computed at the click.

    `upto` is the newest event id the preview counted: events that arrive between the
    preview and the click are not part of what the manager saw, so not replayed.
    """

    kind: str  # "failed" or "since"
    connection_id: int | None = None
    since: dt.date | None = None
    include_posted: bool = False  # `since … all`: already-posted events too
    upto: int | None = None


@dataclass(frozen=True)
class Preview:
    """What a Selection holds now: counts by (event_type, object_type), newest id."""

    total: int = 0
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)
    upto: int | None = None
    posted_left_out: int = 0  # `since` without `all`: posted events it does not repost


def _since_start(since: dt.date) -> dt.datetime:
    return dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)


def _selected(tenant_id: int, sel: Selection, statuses: tuple[str, ...]) -> Select[int]:
    """The ids of a Selection's events (with these statuses), in QuickBooks order."""
    stmt = select(Event.id).where(Event.tenant_id == tenant_id, Event.status.in_(statuses))
    if sel.connection_id is not None:
        stmt = stmt.where(Event.connection_id == sel.connection_id)
    if sel.kind == "since":
        assert sel.since is not None
        # A health alert of weeks ago is old news: only `failed` sends those again.
        stmt = stmt.where(
            Event.created_at >= _since_start(sel.since), Event.event_type != EventType.ALERT
        )
    if sel.upto is not None:
        stmt = stmt.where(Event.id <= sel.upto)
    return stmt.order_by(Event.sort_key, Event.id)


def _statuses(sel: Selection) -> tuple[str, ...]:
    waiting = (EventStatus.FAILED, EventStatus.UNROUTED)
    return (*waiting, EventStatus.POSTED) if sel.include_posted else waiting


def preview(tenant_id: int, sel: Selection, *, db_session: Session) -> Preview:
    """How many events a Selection would post again, by kind; nothing is changed."""
    ids = _selected(tenant_id, sel, _statuses(sel)).order_by(None).subquery()
    rows = db_session.execute(
        select(Event.event_type, Event.object_type, func.count(), func.max(Event.id))
        .where(Event.id.in_(select(ids.c.id)))
        .group_by(Event.event_type, Event.object_type)
    ).all()
    kinds: Counter[tuple[str, str]] = Counter()
    newest: int | None = None
    for event_type, object_type, count, top in rows:
        kinds[(event_type, object_type)] += int(count)
        newest = top if newest is None else max(newest, top)
    left_out = 0
    if sel.kind == "since" and not sel.include_posted:
        posted = _selected(tenant_id, sel, (EventStatus.POSTED,)).order_by(None).subquery()
        left_out = int(db_session.scalar(select(func.count()).select_from(posted)) or 0)
    return Preview(sum(kinds.values()), kinds, newest, left_out)


def replay_selection(tenant_id: int, sel: Selection, *, db_session: Session) -> list[int]:
    """Mark a Selection's events for re-posting (what its preview showed, as they are now)."""
    ids = list(db_session.scalars(_selected(tenant_id, sel, _statuses(sel))))
    what = "failed" if sel.kind == "failed" else f"since {sel.since}"
    return replay_event_ids(
        ids,
        db_session=db_session,
        reason=f"replay {what}" + (" all" if sel.include_posted else ""),
        tenant_id=tenant_id,
        allowed=_statuses(sel),
    )


def find_objects(
    tenant_id: int, key: str, *, db_session: Session, connection_id: int | None = None
) -> list[Event]:
    """The latest event of each object a TxnID, ListID or RefNumber names, newest first.

    Reference numbers repeat across company files (and between a bill and an invoice of
    one file): each object found is one match.
    """
    key = key.strip()
    if not key:
        return []
    stmt = select(Event).where(
        Event.tenant_id == tenant_id,
        Event.event_type.not_in((EventType.NOTICE, EventType.ALERT)),
        or_(Event.object_id == key, Event.ref_number == key),
    )
    if connection_id is not None:
        stmt = stmt.where(Event.connection_id == connection_id)
    stmt = stmt.order_by(Event.sort_key.desc(), Event.id.desc()).limit(MAX_MATCHES_SCANNED)
    latest: dict[tuple[int, str], Event] = {}
    for event in db_session.scalars(stmt):
        latest.setdefault((event.connection_id, event.object_id), event)
    return list(latest.values())
