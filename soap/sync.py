"""The sync plan of one QBWC session: which queries, from where, and what came back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import metrics
from jobs.models import PENDING
from soap import ingest
from soap.qbtime import later, server_window, window_start
from soap.qbxml.entities import CORE_KEYS, DELETED_KEYS, ENTITIES, LIST_DELETED
from soap.qbxml.requests import LIST_DELETE_TYPES, Query, build_batch
from soap.qbxml.responses import STATUS_ITERATOR_GONE, QueryResult
from tenants.models import Connection, Watermark

log = logging.getLogger(__name__)

FIRST_SYNC_DAYS = 2  # the first cycle looks this far back, records a baseline, posts nothing
PENDING_STATE, DONE_STATE, FAILED_STATE = "pending", "done", "failed"


@dataclass
class PageOutcome:
    """What one receiveResponseXML did to the plan."""

    new_pending_ids: list[int] = field(default_factory=list)
    new_events: int = 0
    company_name: str | None = None


def new_plan(
    conn: Connection, *, version: str, opt_in: set[str], company_file: str | None,
    company_name: str | None, db_session: Session,
) -> dict[str, Any]:
    """A fresh plan from the connection's watermarks."""
    marks = {
        w.entity: w.value
        for w in db_session.scalars(select(Watermark).where(Watermark.connection_id == conn.id))
    }
    baseline = not conn.baseline_done
    fallback_days = conn.backfill_days or FIRST_SYNC_DAYS
    keys = [*CORE_KEYS, *sorted(k for k in opt_in if k in ENTITIES), *DELETED_KEYS]
    entities = {}
    for key in keys:
        mark = marks.get(key)
        start = window_start(mark) if (mark and not baseline) else server_window(fallback_days)
        entities[key] = {"from": start, "it": None, "restarts": 0, "max": None,
                         "state": PENDING_STATE, "error": None}
    return {
        "version": version,
        "baseline": baseline,
        "backfill": bool(conn.backfill_days) and baseline,
        "company_file": company_file,
        "company_name": company_name,
        "opt_in": sorted(opt_in),
        "entities": entities,
        "sent": [],
    }


def next_request(plan: dict[str, Any]) -> str:
    """The qbXML batch for every entity still pending (Start or Continue)."""
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
            extra = tuple(ENTITIES[k].object_type for k in plan["opt_in"])
            deleted_types = LIST_DELETE_TYPES + extra
        queries.append(
            Query(key, key, st["from"], iterator, st["it"], deleted_types=deleted_types)
        )
    plan["sent"] = [q.entity for q in queries]
    return build_batch(queries, version=plan["version"], with_company=not plan["company_name"])


def progress(plan: dict[str, Any]) -> int:
    """0..99 while queries remain, 100 when every entity is done or failed."""
    states = [st["state"] for st in plan["entities"].values()]
    if all(s != PENDING_STATE for s in states):
        return 100
    finished = sum(1 for s in states if s != PENDING_STATE)
    return min(99, int(100 * finished / len(states)))


def apply_results(
    plan: dict[str, Any], results: list[QueryResult], conn: Connection, *, db_session: Session
) -> PageOutcome:
    """Record the answers of one batch: events, iterator positions, watermarks."""
    out = PageOutcome()
    answered = set()
    for result in results:
        if result.entity == "company":
            out.company_name = result.company_name or out.company_name
            continue
        key = (result.request_id if result.request_id in plan["entities"]
               else result.entity) or ""
        st = plan["entities"].get(key)
        if st is None or st["state"] != PENDING_STATE:
            continue  # an answer we did not ask for (or a duplicate): ignore its data
        answered.add(key)
        _apply_one(plan, key, st, result, conn, out, db_session=db_session)
    for key in plan["sent"]:
        st = plan["entities"][key]
        if key not in answered and st["state"] == PENDING_STATE:
            st["state"], st["error"] = FAILED_STATE, "QuickBooks did not answer this query"
    return out


def _apply_one(
    plan: dict[str, Any], key: str, st: dict[str, Any], result: QueryResult,
    conn: Connection, out: PageOutcome, *, db_session: Session,
) -> None:
    if result.status_code == STATUS_ITERATOR_GONE and st["restarts"] < 1:
        # The iterator expired (QuickBooks keeps them briefly): start this entity over.
        st["it"], st["restarts"] = None, st["restarts"] + 1
        return
    if not result.ok:
        st["state"] = FAILED_STATE
        st["error"] = f"{key}: QuickBooks status {result.status_code}: {result.status_message}"
        metrics.record_qbwc_error(str(result.status_code))
        log.warning("query %s failed: %s", key, st["error"])
        return
    created = ingest.events_for_objects(
        conn, result.objects, window_from=st["from"], baseline=plan["baseline"]
        and not plan["backfill"], db_session=db_session,
    )
    out.new_events += len(created)
    out.new_pending_ids += [i for i, status in created if status == PENDING]
    for obj in result.objects:
        st["max"] = later(st["max"], obj.time_modified)
    counts: dict[str, int] = {}
    for obj in result.objects:
        event_type = ENTITIES[obj.entity].event_type if obj.entity in ENTITIES else obj.entity
        counts[event_type] = counts.get(event_type, 0) + 1
    for event_type, count in counts.items():
        metrics.record_events(event_type, count)
    if result.iterator_id and (result.iterator_remaining or 0) > 0:
        st["it"] = result.iterator_id
        return
    st["state"], st["it"] = DONE_STATE, None
    if st["max"]:
        _set_watermark(conn, key, st["max"], db_session=db_session)


def _set_watermark(conn: Connection, key: str, value: str, *, db_session: Session) -> None:
    mark = db_session.get(Watermark, (conn.id, key))
    if mark is None:
        db_session.add(Watermark(connection_id=conn.id, entity=key, value=value))
    else:
        mark.value = later(mark.value, value)


def plan_errors(plan: dict[str, Any]) -> list[str]:
    """The readable errors of the entities that failed in this session."""
    return [st["error"] for st in plan["entities"].values() if st["state"] == FAILED_STATE]
