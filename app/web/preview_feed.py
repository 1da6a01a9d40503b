"""The last events of a workspace as the messages Slack would show, threads under parents.

"Last" is in delivery's order (QuickBooks' modification time, then arrival), the order a
channel gets them in.

Shared by /dev/preview (HTML) and `qbslack preview` (text). Every event counts, posted or
not (pending, baseline, failed...): the preview is for seeing what the messages say. A
message's body is what delivery would post (jobs.threads.message_for).

Threads: an event posted as a reply (thread_ts) goes under the event posted with that ts;
one not posted yet goes under the first earlier event shown about the same QuickBooks
object in the same channel, or, for a payment, under the bill or invoice it pays: as
delivery, which posts in this order, will thread it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.enums import EventAction
from jobs.models import Event
from jobs.threads import message_for
from tenants import service
from tenants.models import Connection, Tenant

log = logging.getLogger(__name__)

DEFAULT_LAST = 20
MAX_LAST = 200


@dataclass
class PreviewMessage:
    """One event as a message, with the replies in its thread."""

    event_id: int
    body: dict[str, Any]
    status: str
    channel_id: str | None
    company: str
    created_at: dt.datetime
    last_error: str | None = None
    # A reply whose parent is older than the events shown.
    reply_to_earlier: bool = False
    replies: list[PreviewMessage] = field(default_factory=list)


@dataclass(frozen=True)
class Workspace:
    """A workspace and the names of its company files."""

    team_id: str
    team_name: str
    companies: tuple[str, ...]


def workspaces(*, db_session: Session) -> list[Workspace]:
    """Every workspace with its company files, in the order they were added."""
    tenants = db_session.scalars(select(Tenant).order_by(Tenant.id))
    found = []
    for tenant in tenants:
        names = db_session.scalars(
            select(Connection.company_name)
            .where(Connection.tenant_id == tenant.id)
            .order_by(Connection.id)
        )
        found.append(Workspace(tenant.team_id, tenant.team_name, tuple(names)))
    return found


def clamp_last(last: int | None) -> int:
    """--last / ?last= within 1..MAX_LAST (default DEFAULT_LAST)."""
    if last is None:
        return DEFAULT_LAST
    return max(1, min(MAX_LAST, last))


def recent_messages(
    team_id: str, company: str | None, last: int | None, *, db_session: Session
) -> list[PreviewMessage]:
    """A workspace's (or one company's) last events, oldest first, replies nested.

    Raises tenants.service.NotFound for an unknown workspace or company.
    """
    tenant = service.require_tenant(team_id, db_session=db_session)
    stmt = select(Event, Connection.company_name).join(
        Connection, Connection.id == Event.connection_id
    )
    stmt = stmt.where(Event.tenant_id == tenant.id)
    if company is not None:
        conn = service.require_connection(team_id, company, db_session=db_session)
        stmt = stmt.where(Event.connection_id == conn.id)
    rows = list(
        db_session.execute(
            stmt.order_by(Event.sort_key.desc(), Event.id.desc()).limit(clamp_last(last))
        )
    )
    rows.reverse()

    built = [
        (
            event,
            PreviewMessage(
                event_id=event.id,
                body=_body(event, db_session=db_session),
                status=event.status,
                channel_id=event.channel_id,
                company=company_name,
                created_at=event.created_at,
                last_error=event.last_error,
            ),
        )
        for event, company_name in rows
    ]
    # Slack's thread parents: the messages posted on their own, wherever they are shown.
    by_ts = {
        (event.channel_id, event.slack_ts): message
        for event, message in built
        if event.slack_ts and not event.thread_ts
    }
    shown: list[PreviewMessage] = []
    by_object: dict[tuple[int, str | None, str], PreviewMessage] = {}
    for event, message in built:
        parent = _parent(event, by_ts, by_object)
        if parent is not None:
            parent.replies.append(message)
            continue
        message.reply_to_earlier = bool(event.thread_ts)
        shown.append(message)
        if event.action != EventAction.CONNECTED:
            by_object.setdefault((event.connection_id, event.channel_id, event.object_id), message)
    return shown


def _parent(
    event: Event,
    by_ts: dict[tuple[str | None, str], PreviewMessage],
    by_object: dict[tuple[int, str | None, str], PreviewMessage],
) -> PreviewMessage | None:
    """The shown message this event replies to, if any (always a top-level one)."""
    if event.thread_ts:
        return by_ts.get((event.channel_id, event.thread_ts))
    if event.slack_ts or event.action == EventAction.CONNECTED:
        return None  # posted as a message of its own; a notice starts no thread
    own = by_object.get((event.connection_id, event.channel_id, event.object_id))
    if own is not None:
        return own
    applied = (event.payload or {}).get("applied_to")
    for item in applied if isinstance(applied, list) else []:
        if isinstance(item, dict) and isinstance(item.get("txn_id"), str):
            paid = by_object.get((event.connection_id, event.channel_id, item["txn_id"]))
            if paid is not None:
                return paid
    return None


def _body(event: Event, *, db_session: Session) -> dict[str, Any]:
    """The message delivery would post for this event (a note when it cannot be built)."""
    try:
        body, _thread_ts = message_for(event, db_session=db_session)
    except Exception:  # one unreadable event must not hide the others
        log.exception("preview: could not build the message of event %s", event.id)
        return {"text": f"(the message of event {event.id} could not be built: see the log)"}
    return body
