"""The sync plan of one QBWC session: which queries, from where, and what came back."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CompoundSelect, String, bindparam, literal_column, select, union_all
from sqlalchemy.orm import Session

from app.core import metrics
from jobs.enums import EventStatus
from jobs.outbox import Created
from soap import ingest
from soap.qbtime import later, server_window, window_start
from soap.qbxml.entities import COMPANY, CORE_KEYS, DELETED_KEYS, ENTITIES, LIST_DELETED
from soap.qbxml.requests import LIST_DELETE_TYPES, Query, build_batch
from soap.qbxml.responses import STATUS_ITERATOR_GONE, QueryResult
from soap.tickets import Ticket
from tenants.models import Connection, Route, Watermark
from tenants.routes import opt_in_query

log = logging.getLogger(__name__)

# The first sync looks this far back by the server clock (QuickBooks' zone is unknown, so a
# wide margin), records what it finds as the baseline and posts nothing but one notice.
FIRST_SYNC_DAYS = 2
PENDING_STATE, DONE_STATE, FAILED_STATE = "pending", "done", "failed"
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


def new_plan(
    marks: dict[str, str | None],
    opt_in: Iterable[str],
    *,
    baseline: bool,
    backfill_days: int | None,
    version: str,
    company_file: str | None,
    company_name: str | None,
    ask_company: bool,
) -> dict[str, Any]:
    """A fresh plan from the connection's watermarks and opt-in routes (see plan_inputs).

    baseline: the connection's first sync; backfill_days: how far back it looks, if asked.
    The plan is JSON, kept with the ticket.
    """
    opt_in = set(opt_in)
    fallback_days = (backfill_days or FIRST_SYNC_DAYS) if baseline else FIRST_SYNC_DAYS
    keys = [*CORE_KEYS, *sorted(k for k in opt_in if k in ENTITIES), *DELETED_KEYS]
    entities = {}
    for key in keys:
        mark = None if baseline else marks.get(key)
        # A watermark's wall clock minus the overlap; without one (first sync, or nothing
        # seen yet) a window by the server clock.
        start = window_start(mark) or server_window(fallback_days)
        entities[key] = {
            "from": start,
            "it": None,
            "restarts": 0,
            "max": None,
            "state": PENDING_STATE,
            "error": None,
        }
    return {
        "version": version,
        "baseline": baseline,
        "backfill": baseline and bool(backfill_days),
        "company_file": company_file,
        "company_name": company_name,
        "ask_company": ask_company,
        "opt_in": sorted(k for k in opt_in if k in ENTITIES),
        "entities": entities,
        "sent": [],
    }


def next_request(plan: dict[str, Any], *, seq: int) -> str:
    """One qbXML batch for every entity still pending (Start or Continue), numbered seq."""
    queries = []
    for key, st in plan["entities"].items():
        if st["state"] != PENDING_STATE:
            continue
        entity = ENTITIES.get(key)
        iterator = None
        if entity is not None and entity.iterator:
            iterator = "Continue" if st["it"] else "Start"
        deleted_types: tuple[str, ...] = ()
        if key == LIST_DELETED:
            deleted_types = LIST_DELETE_TYPES + tuple(
                ENTITIES[k].object_type for k in plan["opt_in"]
            )
        # requestID "<entity>.<seq>": an answer to an earlier request is recognised as stale.
        queries.append(
            Query(key, f"{key}.{seq}", st["from"], iterator, st["it"], deleted_types=deleted_types)
        )
    plan["sent"] = [q.entity for q in queries]
    with_company = bool(plan.get("ask_company")) and not plan.get("company_name")
    plan["ask_company"] = False  # asked once per session at most
    return build_batch(queries, version=plan["version"], with_company=with_company)


def progress(plan: dict[str, Any]) -> int:
    """0..99 while queries remain, 100 when every entity is done or failed."""
    states = [st["state"] for st in plan["entities"].values()]
    if all(s != PENDING_STATE for s in states):
        return 100
    finished = sum(1 for s in states if s != PENDING_STATE)
    return min(99, int(100 * finished / len(states)))


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
    plan, seq = t.plan or {}, t.requests_sent
    out = PageOutcome()
    answered: set[str] = set()
    stale = 0
    for result in results:
        if result.entity == COMPANY:
            if result.company_name and not plan.get("company_name"):
                plan["company_name"] = result.company_name
            continue
        key, number = _request_key(result, seq)
        if number != seq:
            stale += 1
            continue
        st = plan["entities"].get(key or "")
        if key is None or st is None or key not in plan["sent"] or key in answered:
            continue  # an answer we did not ask for: its data is ignored
        answered.add(key)
        _apply_one(t, key, st, result, conn, out, db_session=db_session)
    if stale and not answered:
        out.stale = True
        return out
    for key in plan["sent"]:
        st = plan["entities"][key]
        if key not in answered and st["state"] == PENDING_STATE:
            st["state"], st["error"] = FAILED_STATE, f"{_label(key)}: QuickBooks did not answer"
    return out


def _apply_one(
    t: Ticket,
    key: str,
    st: dict[str, Any],
    result: QueryResult,
    conn: Connection | None,
    out: PageOutcome,
    *,
    db_session: Session,
) -> None:
    plan = t.plan or {}
    who = {"tenant": t.tenant_id, "connection": t.connection_id}
    if result.status_code == STATUS_ITERATOR_GONE and st["restarts"] < ITERATOR_RESTARTS:
        # QuickBooks dropped the iterator: start this entity over (dedupe absorbs repeats).
        log.info("iterator of %s expired; starting it again", key)
        st["it"], st["restarts"] = None, st["restarts"] + 1
        return
    if not result.ok:
        st["state"] = FAILED_STATE
        st["error"] = (
            f"{_label(key)}: QuickBooks answered status {result.status_code} "
            f"({result.status_message or 'no message'})"
        )
        metrics.record_qbwc_error(str(result.status_code))
        log.warning("query %s for %s failed: %s", key, t.username, st["error"], extra=who)
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
            window_from=st["from"],
            baseline=plan["baseline"] and not plan["backfill"],
            db_session=db_session,
        )
    out.new_events += len(created)
    out.new_pending_ids += [c.id for c in created if c.status == EventStatus.PENDING]
    for c in created:
        metrics.record_events(c.event_type)
    for obj in result.objects:
        st["max"] = later(st["max"], obj.time_modified)
    entity = ENTITIES.get(key)
    if entity is not None and entity.iterator and (result.iterator_remaining or 0) > 0:
        if result.iterator_id and len(result.iterator_id) <= MAX_ITERATOR_ID:
            st["it"] = result.iterator_id
            return
        # More to come but no usable iterator: this entity cannot go on in this session.
        st["state"], st["error"] = FAILED_STATE, f"{_label(key)}: QuickBooks gave no iterator"
        return
    st["state"], st["it"] = DONE_STATE, None
    if st["max"]:
        # Only a finished iteration moves the watermark, in this page's transaction.
        _set_watermark(t.connection_id, key, st["max"], db_session=db_session)


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


def plan_errors(plan: dict[str, Any]) -> list[str]:
    """The readable errors of the entities that failed in this session."""
    return [st["error"] for st in plan["entities"].values() if st["state"] == FAILED_STATE]
