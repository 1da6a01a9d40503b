"""Carrying out a session's sync plan: its requests, and what QuickBooks' answers change."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CompoundSelect, String, bindparam, literal_column, select, union_all
from sqlalchemy.orm import Session

from app.core import metrics
from app.core.db import utcnow
from jobs.enums import EventStatus
from jobs.outbox import Created
from soap import ingest
from soap.plan import EntityProgress, EntityState, Plan, ahead
from soap.qbtime import later, valid, wall_clock
from soap.qbxml.entities import COMPANY, ENTITIES, LIST_DELETED
from soap.qbxml.requests import LIST_DELETE_TYPES, MAX_RETURNED, Query, build_batch
from soap.qbxml.responses import STATUS_ITERATOR_GONE, QbObject, QueryResult
from soap.tickets import Ticket
from tenants.models import Connection, Route, Watermark
from tenants.qwc import OWNER_ID
from tenants.routes import opt_in_query

log = logging.getLogger(__name__)

ITERATOR_RESTARTS = 1  # per entity and session, after status 3391 (iterator gone)
MAX_ITERATOR_ID = 100  # QuickBooks' are GUIDs in braces (38 characters)
# New events one session creates (a first sync's unposted baseline records aside): the rest
# waits for the next session, its watermark held before the earliest object not taken.
MAX_SESSION_EVENTS = 5_000
# Objects taken from one page of an iteration: the MaxReturned we asked for (QuickBooks keeps
# to it; a client that sends more has the rest held for the next session, like the above).
# Queries without iterators (accounts, employees, deletions) ask for no number: the session
# cap bounds them.
MAX_PAGE_OBJECTS = MAX_RETURNED


@dataclass
class PageOutcome:
    """What one receiveResponseXML did to the plan."""

    new_pending_ids: list[int] = field(default_factory=list)
    new_events: int = 0
    stale: bool = False  # the answer was to an earlier request: nothing was taken from it


# Watermarks and opt-in routes of a connection in one round trip; built once (a poll's
# hot path: a prebuilt Core statement skips the ORM and the per-call statement build).
_PLAN_INPUTS: CompoundSelect[Any] = union_all(
    select(literal_column("'mark'", String), Watermark.entity, Watermark.value).where(
        Watermark.connection_id == bindparam("connection_id")
    ),
    opt_in_query(bindparam("tenant_id"), bindparam("connection_id")).with_only_columns(
        literal_column("'route'", String), Route.event_type, literal_column("NULL", String)
    ),
)


def plan_inputs(
    connection_id: int, tenant_id: int, *, db_session: Session
) -> tuple[dict[str, str | None], set[str]]:
    """The connection's watermarks and its opt-in routes, in one round trip."""
    found: dict[str, str | None] = {}
    opt_in: set[str] = set()
    rows = db_session.connection().execute(
        _PLAN_INPUTS, {"connection_id": connection_id, "tenant_id": tenant_id}
    )
    for kind, key, value in rows:
        if kind == "mark":
            found[key] = value
        else:
            opt_in.add(key)
    return found, opt_in


def next_request(plan: Plan, *, seq: int) -> str:
    """One qbXML batch for every entity still pending (Start or Continue), numbered seq."""
    queries = []
    for key, st in plan.entities.items():
        if st.state != EntityState.PENDING:
            continue
        entity = ENTITIES.get(key)
        iterator = None
        if entity is not None and entity.iterator:
            iterator = "Continue" if st.iterator else "Start"
        deleted_types: tuple[str, ...] = ()
        if key == LIST_DELETED:
            deleted_types = LIST_DELETE_TYPES + tuple(ENTITIES[k].object_type for k in plan.opt_in)
        # requestID "<entity>.<seq>": an answer to an earlier request is recognised as stale.
        queries.append(
            Query(
                key,
                f"{key}.{seq}",
                st.window_from,
                iterator,
                st.iterator,
                deleted_types=deleted_types,
            )
        )
    plan.sent = [q.entity for q in queries]
    owner = OWNER_ID if plan.ask_company else None
    plan.ask_company = False  # the first request of a session asks which file is open
    return build_batch(queries, version=plan.version, company_owner_id=owner)


def _request_key(result: QueryResult, seq: int) -> tuple[str | None, int]:
    """The entity key and request number an answer carries in its requestID."""
    key, _, number = (result.request_id or "").rpartition(".")
    if key and number.isdigit():
        return key, int(number)
    # No requestID echoed: trust the element name, as for the current request.
    return result.entity, seq


def apply_results(
    t: Ticket,
    results: list[QueryResult],
    conn: Connection | None,
    *,
    db_session: Session,
) -> PageOutcome:
    """Record the answers to the ticket's latest request: events, iterators, watermarks.

    conn, the connection's row loaded in this transaction, is needed only when the results
    carry objects (an answer of "no match" everywhere writes nothing here).
    """
    plan, seq = t.plan, t.requests_sent
    if plan is None:
        raise ValueError("results are taken only by a session with a plan")
    out = PageOutcome()
    answered: set[str] = set()
    stale = 0
    for result in results:
        if result.entity == COMPANY:
            continue  # read by soap.binding before anything else
        key, number = _request_key(result, seq)
        if number != seq:
            stale += 1
            continue
        st = plan.entities.get(key or "")
        if key is None or st is None or key not in plan.sent or key in answered:
            continue  # an answer we did not ask for: its data is ignored
        answered.add(key)
        _apply_one(t, plan, key, st, result, conn, out, db_session=db_session)
    if stale and not answered:
        out.stale = True
        return out
    for key in plan.sent:
        st = plan.entities[key]
        if key not in answered and st.state == EntityState.PENDING:
            st.state, st.error = EntityState.FAILED, f"{_label(key)}: QuickBooks did not answer"
    return out


def _apply_one(
    t: Ticket,
    plan: Plan,
    key: str,
    st: EntityProgress,
    result: QueryResult,
    conn: Connection | None,
    out: PageOutcome,
    *,
    db_session: Session,
) -> None:
    who = {"tenant": t.tenant_id, "connection": t.connection_id}
    if result.status_code == STATUS_ITERATOR_GONE and st.restarts < ITERATOR_RESTARTS:
        # QuickBooks dropped the iterator: start this entity over (dedupe absorbs repeats).
        log.info("iterator of %s expired; starting it again", key)
        st.iterator, st.restarts = None, st.restarts + 1
        return
    if not result.ok:
        st.state = EntityState.FAILED
        st.error = (
            f"{_label(key)}: QuickBooks answered status {result.status_code} "
            f"({result.status_message or 'no message'})"
        )
        metrics.record_qbwc_error(str(result.status_code))
        log.warning("query %s for %s failed: %s", key, t.username, st.error, extra=who)
        return
    if result.status_severity == "Warn":
        log.warning(
            "query %s for %s: QuickBooks warning %s: %s",
            key,
            t.username,
            result.status_code,
            result.status_message,
            extra=who,
        )
    entity = ENTITIES.get(key)
    if result.objects:
        if conn is None:
            raise ValueError("objects to record need the connection's row")
        _take_objects(t, plan, key, st, result.objects, conn, out, db_session=db_session)
    if entity is not None and entity.iterator and (result.iterator_remaining or 0) > 0:
        if result.iterator_id and len(result.iterator_id) <= MAX_ITERATOR_ID:
            st.iterator = result.iterator_id
            return
        # More to come but no usable iterator: this entity cannot go on in this session.
        st.state, st.error = EntityState.FAILED, f"{_label(key)}: QuickBooks gave no iterator"
        return
    st.state, st.iterator = EntityState.DONE, None
    mark = _new_mark(st)
    if mark:
        # Only a finished iteration moves the watermark, in this page's transaction.
        _set_watermark(t.connection_id, key, mark, db_session=db_session)


def _take_objects(
    t: Ticket,
    plan: Plan,
    key: str,
    st: EntityProgress,
    objects: list[QbObject],
    conn: Connection,
    out: PageOutcome,
    *,
    db_session: Session,
) -> None:
    """Turn one answer's objects into events, within the page's and the session's caps.

    What is not taken is held: the entity's watermark stays before it, so the next session
    asks for it again (and the (object, EditSequence) key drops what was taken already).
    """
    who = {"tenant": t.tenant_id, "connection": t.connection_id}
    now = utcnow()
    entity = ENTITIES.get(key)
    over: list[QbObject] = []
    if entity is not None and entity.iterator and len(objects) > MAX_PAGE_OBJECTS:
        objects, over = objects[:MAX_PAGE_OBJECTS], objects[MAX_PAGE_OBJECTS:]
        metrics.record_input_capped("page", len(over))
        log.warning(
            "query %s for %s: %d objects in a page of at most %d; the rest waits",
            key,
            t.username,
            len(objects) + len(over),
            MAX_PAGE_OBJECTS,
            extra=who,
        )
    baseline = plan.baseline and not plan.backfill
    budget = None if baseline else max(0, MAX_SESSION_EVENTS - t.events_created - out.new_events)
    created, taken = _create_events(
        conn, objects, budget, window_from=st.window_from, baseline=baseline, db_session=db_session
    )
    left = objects[taken:]
    if left:
        metrics.record_input_capped("session", len(left))
        if budget:  # the cap was reached in this page: said once
            log.warning(
                "session of %s reached %d new events; the rest waits for the next session",
                t.username,
                MAX_SESSION_EVENTS,
                extra=who,
            )
    _hold(st, [*left, *over], now)
    out.new_events += len(created)
    out.new_pending_ids += [c.id for c in created if c.status == EventStatus.PENDING]
    for c in created:
        metrics.record_events(c.event_type)
    for obj in objects[:taken]:
        if ahead(obj.time_modified, now):
            # Posted, but no watermark goes there: later changes would stay unseen until then.
            if plan.clock_ahead is None:
                plan.clock_ahead = (obj.time_modified or "")[:40]
                log.warning(
                    "QuickBooks clock of %s is in the future: %s stamped %s",
                    t.username,
                    key,
                    plan.clock_ahead,
                    extra=who,
                )
            continue
        st.max_modified = later(st.max_modified, obj.time_modified)


def _create_events(
    conn: Connection,
    objects: list[QbObject],
    budget: int | None,
    *,
    window_from: str | None,
    baseline: bool,
    db_session: Session,
) -> tuple[list[Created], int]:
    """The events of the objects, at most budget new ones (None: no cap); and how many
    objects were taken, from the first (repeats of known versions cost nothing)."""
    if budget is None:
        created = ingest.events_for_objects(
            conn, objects, window_from=window_from, baseline=baseline, db_session=db_session
        )
        return created, len(objects)
    created, taken = [], 0
    while taken < len(objects) and len(created) < budget:
        chunk = objects[taken : taken + budget - len(created)]
        created += ingest.events_for_objects(
            conn, chunk, window_from=window_from, baseline=baseline, db_session=db_session
        )
        taken += len(chunk)
    return created, taken


def _hold(st: EntityProgress, objects: list[QbObject], now: dt.datetime) -> None:
    """Keep the entity's watermark before these objects, which were not taken."""
    for obj in objects:
        if valid(obj.time_modified) is None:
            st.held_untimed = True
        elif not ahead(obj.time_modified, now):
            # (One stamped in the future is asked again anyway: no watermark goes there.)
            st.held = _earlier(st.held, obj.time_modified)


def _new_mark(st: EntityProgress) -> str | None:
    """The watermark a finished iteration leaves: its latest time taken, not past a held one."""
    if st.held_untimed:
        return None
    if st.held is None:
        return st.max_modified
    return _earlier(st.max_modified, st.held)


def _earlier(a: str | None, b: str | None) -> str | None:
    """The earlier of two QuickBooks times, on the wall clock; bad text is ignored."""
    a, b = valid(a), valid(b)
    if a is None:
        return b
    if b is None:
        return a
    return b if wall_clock(b) < wall_clock(a) else a


def _set_watermark(connection_id: int, key: str, value: str, *, db_session: Session) -> None:
    mark = db_session.get(Watermark, (connection_id, key))
    if mark is None:
        db_session.add(Watermark(connection_id=connection_id, entity=key, value=value))
    elif ahead(mark.value, utcnow()):
        mark.value = value  # kept from a wrong PC clock before the rule: not a place to keep
    else:
        mark.value = later(mark.value, value)


def _label(key: str) -> str:
    entity = ENTITIES.get(key)
    if entity is not None:
        return entity.object_type
    return {"txn_deleted": "Deleted transactions", "list_deleted": "Deleted list entries"}.get(
        key, key
    )


def connected_notice(conn: Connection, plan: Plan, *, db_session: Session) -> list[int]:
    """The first sync's "connected to <company>" event; the ids to hand to delivery."""
    company = plan.company_name or conn.company_name
    created = ingest.connected_notice(conn, company, plan.company_file, db_session=db_session)
    return [c.id for c in created]
