"""Carrying out a session's sync plan: its requests, and what QuickBooks' answers change."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CompoundSelect, String, bindparam, literal_column, select, union_all
from sqlalchemy.orm import Session

from app.core import metrics
from jobs.enums import EventStatus
from jobs.outbox import Created
from soap import ingest
from soap.plan import EntityProgress, EntityState, Plan
from soap.qbtime import later
from soap.qbxml.entities import COMPANY, ENTITIES, LIST_DELETED
from soap.qbxml.requests import LIST_DELETE_TYPES, Query, build_batch
from soap.qbxml.responses import STATUS_ITERATOR_GONE, QueryResult
from soap.tickets import Ticket
from tenants.models import Connection, Route, Watermark
from tenants.qwc import OWNER_ID
from tenants.routes import opt_in_query

log = logging.getLogger(__name__)

ITERATOR_RESTARTS = 1  # per entity and session, after status 3391 (iterator gone)
MAX_ITERATOR_ID = 100  # QuickBooks' are GUIDs in braces (38 characters)


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
    created: list[Created] = []
    if result.objects:
        if conn is None:
            raise ValueError("objects to record need the connection's row")
        created = ingest.events_for_objects(
            conn,
            result.objects,
            window_from=st.window_from,
            baseline=plan.baseline and not plan.backfill,
            db_session=db_session,
        )
    out.new_events += len(created)
    out.new_pending_ids += [c.id for c in created if c.status == EventStatus.PENDING]
    for c in created:
        metrics.record_events(c.event_type)
    for obj in result.objects:
        st.max_modified = later(st.max_modified, obj.time_modified)
    entity = ENTITIES.get(key)
    if entity is not None and entity.iterator and (result.iterator_remaining or 0) > 0:
        if result.iterator_id and len(result.iterator_id) <= MAX_ITERATOR_ID:
            st.iterator = result.iterator_id
            return
        # More to come but no usable iterator: this entity cannot go on in this session.
        st.state, st.error = EntityState.FAILED, f"{_label(key)}: QuickBooks gave no iterator"
        return
    st.state, st.iterator = EntityState.DONE, None
    if st.max_modified:
        # Only a finished iteration moves the watermark, in this page's transaction.
        _set_watermark(t.connection_id, key, st.max_modified, db_session=db_session)


def _set_watermark(connection_id: int, key: str, value: str, *, db_session: Session) -> None:
    mark = db_session.get(Watermark, (connection_id, key))
    if mark is None:
        db_session.add(Watermark(connection_id=connection_id, entity=key, value=value))
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
