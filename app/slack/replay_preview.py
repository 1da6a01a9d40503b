"""`/qb-replay`'s preview and choices: what would be posted again, and the clicks that do it.

`failed` and `since` answer with what they would post ("38 events of Client A since
2026-11-01: 12 bills, 9 invoices") and Replay / Cancel buttons, in an ephemeral message.
The Replay button carries the selection, signed for that manager of that workspace; the
click checks the manager again (Slack's word now) and re-computes the selection, up to
the newest event the preview counted. A reference that names several objects (reference
numbers repeat across clients) lists them, a button each.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from app.core.runtime import Runtime
from app.core.settings import Settings
from app.slack.permissions import REFUSAL, check_grant, grant, is_manager
from app.slack.surface import NOT_HERE
from app.slack.text import Reply, amount_text, button, context, plural, section, type_word
from jobs import replay
from jobs.models import Event
from jobs.mrkdwn import escape
from jobs.outbox import schedule_events
from tenants import service
from tenants.models import Connection, Tenant

log = logging.getLogger(__name__)

MAX_KINDS = 8  # kinds named in a preview ("12 bills, 9 invoices, …")
MAX_MATCHES = 10  # objects listed for an ambiguous reference
STALE = "This preview is too old or not yours: run `/qb-replay` again."
CANCELLED = "Cancelled: nothing was posted again."


def scope_words(conn: Connection | None, tenant: Tenant) -> str:
    """ "of *Client A*", "of every company file", or "" for a workspace with one."""
    if conn is not None:
        return f" of *{escape(conn.company_name)}*"
    return " of every company file" if len(tenant.connections) > 1 else ""


def what_words(sel: replay.Selection) -> str:
    """ "that failed or wait for a channel", "since 2026-11-01 (already posted ones too)"."""
    if sel.kind == "failed":
        return " that failed or wait for a channel"
    words = f" since {sel.since}"
    return words + (", posted ones included" if sel.include_posted else "")


def kinds_words(preview: replay.Preview) -> str:
    """ "12 bills, 9 invoices, 3 vendors" (the most frequent first)."""
    counts: dict[str, int] = {}
    for (event_type, object_type), count in preview.kinds.items():
        word = type_word(event_type, object_type)
        counts[word] = counts.get(word, 0) + count
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    words = [plural(word, count) for word, count in ranked[:MAX_KINDS]]
    if len(ranked) > MAX_KINDS:
        words.append("…")
    return ", ".join(words)


def preview_reply(
    settings: Settings,
    team_id: str,
    user_id: str,
    tenant: Tenant,
    conn: Connection | None,
    sel: replay.Selection,
    *,
    db_session: Session,
) -> Reply:
    """What a `failed` or `since` selection holds now, with Replay / Cancel buttons."""
    preview = replay.preview(tenant.id, sel, db_session=db_session)
    scope, what = scope_words(conn, tenant), what_words(sel)
    hint = ""
    if preview.posted_left_out:
        again = f"/qb-replay since {sel.since} all" + (
            f" {escape(conn.company_name)}" if conn else ""
        )
        hint = (
            f"\n{plural('event', preview.posted_left_out)} already posted since {sel.since} "
            f"{'is' if preview.posted_left_out == 1 else 'are'} left out: `{again}` "
            "posts them again too."
        )
    if preview.total == 0:
        if sel.kind == "failed":
            of = f" of *{escape(conn.company_name)}*" if conn else ""
            text = (
                f"Nothing to post again: no delivery{of} has failed "
                "and nothing waits for a channel."
            )
        elif sel.include_posted:
            text = f"Nothing to post again: no event{scope} since {sel.since}."
        else:
            text = (
                f"Nothing to post again: no event{scope}{what} failed or waits for a channel."
                + hint
            )
        return Reply(text)
    head = f"{plural('event', preview.total)}{scope}{what}"
    text = f"{head}: {kinds_words(preview)}.\nThey go through the current routes.{hint}"
    selection = {
        "k": sel.kind,
        "c": sel.connection_id,
        "s": sel.since.isoformat() if sel.since else None,
        "a": sel.include_posted,
        "u": preview.upto,
        "n": preview.total,
    }
    value = grant(settings, team_id, user_id, replay=selection)
    blocks = [
        section(text),
        {
            "type": "actions",
            "block_id": "replay_preview",
            "elements": [
                button("replay_confirm", "Replay", value, style="primary"),
                button("replay_cancel", "Cancel", "cancel"),
            ],
        },
    ]
    return Reply(f"{head}: {kinds_words(preview)}. Replay or cancel?", blocks)


def matches_reply(
    settings: Settings,
    team_id: str,
    user_id: str,
    key: str,
    matches: list[Event],
    names: dict[int, str],
) -> Reply:
    """Several objects go by this reference: one line and button each, to choose from."""
    head = (
        f"`{escape(key)}` names {len(matches)} different QuickBooks objects: "
        "choose the one to post again."
    )
    blocks: list[dict[str, Any]] = [section(head)]
    for event in matches[:MAX_MATCHES]:
        value = grant(settings, team_id, user_id, event=event.id)
        blocks.append(
            section(
                match_line(event, names.get(event.connection_id, "?")),
                accessory=button("replay_pick", "Post again", value),
            )
        )
    if len(matches) > MAX_MATCHES:
        blocks.append(
            context(
                f"…and {len(matches) - MAX_MATCHES} more: add the company's name, "
                f"e.g. `/qb-replay {escape(key)} <company>`."
            )
        )
    return Reply(head, blocks)


def match_line(event: Event, company: str) -> str:
    """ "*Client A* · bill INV-77 · 2026-11-02 · 1,250.00 · Acme Supply"."""
    parts = [f"*{escape(company)}*", escape(type_word(event.event_type, event.object_type))]
    if event.ref_number:
        parts[-1] += f" {escape(event.ref_number)}"
    parts.append(event_date(event))
    amount = amount_text(event.amount)
    if amount:
        parts.append(amount)
    if event.counterparty:
        parts.append(escape(event.counterparty[:100]))
    return " · ".join(parts)


def event_date(event: Event) -> str:
    """The transaction's date as QuickBooks has it, else when qbslack received it."""
    txn = (event.payload or {}).get("txn_date")
    if isinstance(txn, str) and len(txn) >= 10:
        try:
            return dt.date.fromisoformat(txn[:10]).isoformat()
        except ValueError:
            pass
    return event.sort_key.date().isoformat()


def _selection(data: Any) -> replay.Selection | None:
    """The selection a signed Replay button carries, or None if it is not one."""
    if not isinstance(data, dict) or data.get("k") not in ("failed", "since"):
        return None
    conn, upto, since = data.get("c"), data.get("u"), data.get("s")
    if conn is not None and not isinstance(conn, int):
        return None
    if upto is not None and not isinstance(upto, int):
        return None
    try:
        day = dt.date.fromisoformat(since) if isinstance(since, str) else None
    except ValueError:
        return None
    if data["k"] == "since" and day is None:
        return None
    return replay.Selection(
        data["k"], connection_id=conn, since=day, include_posted=data.get("a") is True, upto=upto
    )


def register_replay_preview(app: App, runtime: Runtime) -> None:
    """The preview's Replay and Cancel buttons, and the choice among matches."""
    settings = runtime.settings

    def answer(respond: Respond, text: str) -> None:
        respond(text=text, replace_original=True, response_type="ephemeral")

    @app.action("replay_cancel")
    def replay_cancel(ack: Ack, respond: Respond) -> None:
        ack()
        answer(respond, CANCELLED)

    @app.action("replay_confirm")
    def replay_confirm(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        data = check_grant(settings, body["actions"][0].get("value"), team_id, user_id)
        sel = _selection((data or {}).get("replay"))
        if data is None or sel is None:
            return answer(respond, STALE)
        if not is_manager(runtime, client, team_id, user_id):  # still, as Slack says now
            return answer(respond, REFUSAL)
        ids: list[int] = []
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            conn = None
            if sel.connection_id is not None:
                conn = service.tenant_connection(tenant, sel.connection_id, db_session=db)
                if conn is None:
                    return answer(respond, NOT_HERE)
            ids = replay.replay_selection(tenant.id, sel, db_session=db)
            scope, what = scope_words(conn, tenant), what_words(sel)
        schedule_events(runtime, ids)
        if not ids:
            return answer(respond, f"Nothing to post again any more: no event{scope}{what}.")
        counted = data["replay"].get("n")
        since = (
            f" (the preview counted {counted}: some were posted or replayed meanwhile)"
            if isinstance(counted, int) and counted != len(ids)
            else ""
        )
        answer(
            respond,
            f"Queued {plural('event', len(ids))}{scope}{what} to post again{since}. "
            "They go through the current routes.",
        )

    @app.action("replay_pick")
    def replay_pick(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        data = check_grant(settings, body["actions"][0].get("value"), team_id, user_id)
        event_id = (data or {}).get("event")
        if not isinstance(event_id, int):
            return answer(respond, STALE)
        if not is_manager(runtime, client, team_id, user_id):
            return answer(respond, REFUSAL)
        with runtime.transaction() as db:
            tenant = service.require_tenant(team_id, db_session=db)
            event = db.get(Event, event_id)
            if event is None or event.tenant_id != tenant.id:  # only this workspace's data
                return answer(respond, NOT_HERE)
            company = service.tenant_connection(tenant, event.connection_id, db_session=db)
            line = match_line(event, company.company_name if company else "?")
            ids = replay.replay_event_ids(
                [event.id],
                db_session=db,
                reason=f"replay {event.ref_number or event.object_id}",
                tenant_id=tenant.id,
            )
        schedule_events(runtime, ids)
        if not ids:
            return answer(respond, f"{line}\nIt is on its way to Slack already: nothing to do.")
        answer(respond, f"Queued to post again: {line}. It goes through the current routes.")
