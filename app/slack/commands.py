"""Slash commands: /qb-routes and /qb-replay (parsing and the work behind them)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from app.core.runtime import Runtime
from app.slack.company_detail import routes_lines
from app.slack.replay_preview import match_line, matches_reply, preview_reply
from app.slack.suggestions import unknown_company
from app.slack.text import Reply
from app.slack.views import ROUTE_LABELS, routes_text
from jobs import replay
from jobs.mrkdwn import escape
from jobs.outbox import schedule_events
from jobs.parked import retry_routable
from tenants import routes, service
from tenants.models import ROUTE_KEYS, Connection, Tenant

HELP_WORDS = {"help", "?", "-h", "--help", "usage"}
ROUTES_USAGE = (
    "Usage:\n"
    "• `/qb-routes` — opens the editor: one channel per kind of change, for every company "
    "file or one.\n"
    "• `/qb-routes list [company]` — where each kind of change goes.\n"
    "• `/qb-routes set <event-type> <#channel> [company]` — without a company, for every "
    "company file; a company's own route wins over it.\n"
    "• `/qb-routes clear <event-type> [company]`\n"
    "Event types: " + ", ".join(ROUTE_KEYS) + " (`default` takes what has no route of its "
    "own; `alerts` takes qbslack's health alerts).\n"
    "Examples: `/qb-routes set bill #ap` · `/qb-routes set invoice #client-a Client A` · "
    "`/qb-routes clear bill Client A` · `/qb-routes list Client A`"
)
REPLAY_USAGE = (
    "Usage:\n"
    "• `/qb-replay failed [company]` — what Slack refused or had no channel for.\n"
    "• `/qb-replay since YYYY-MM-DD [all] [company]` — what failed or had no channel since "
    "that day (UTC); with `all`, what was posted too.\n"
    "• `/qb-replay <RefNumber | TxnID | ListID> [company]` — that object's latest change; "
    "if several objects go by that number, you choose.\n"
    "`failed` and `since` first show what they would post, with *Replay* and *Cancel*. "
    "Everything goes through the current routes.\n"
    "Examples: `/qb-replay failed` · `/qb-replay failed Client A` · "
    "`/qb-replay since 2026-11-01 Client A` · `/qb-replay since 2026-11-01 all` · "
    "`/qb-replay INV-77 Client A`"
)
NOT_INSTALLED = "qbslack is not installed in this workspace."
LIST_TEXT = 12000  # characters of `/qb-routes list`: the rest is counted
_CHANNEL_ESCAPED = re.compile(r"^<#([CG][A-Z0-9]+)(\|[^>]*)?>$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")


@dataclass
class Channel:
    """A channel argument resolved to an id, with a warning when the bot cannot post."""

    channel_id: str | None
    warning: str | None = None


def parse_channel(client: WebClient, arg: str) -> Channel:
    """<#C123|name>, C123 or #name -> a channel id (None if it cannot be found)."""
    m = _CHANNEL_ESCAPED.match(arg)
    if m:
        channel_id = m.group(1)
    elif _CHANNEL_ID.match(arg):
        channel_id = arg
    elif arg.startswith("#"):
        channel_id = _find_by_name(client, arg[1:].lower())
        if channel_id is None:
            return Channel(None)
    else:
        return Channel(None)
    try:
        info = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError:
        return Channel(
            channel_id,
            "I can't see that channel yet. If it is private, invite "
            "me first with `/invite @qbslack`.",
        )
    if info.get("is_archived"):
        return Channel(channel_id, f"<#{channel_id}> is archived: nothing can be posted there.")
    if info.get("is_private") and not info.get("is_member"):
        return Channel(
            channel_id,
            f"<#{channel_id}> is private and I'm not in it: invite me "
            "with `/invite @qbslack` in that channel, or nothing can be posted there.",
        )
    return Channel(channel_id)


def _find_by_name(client: WebClient, name: str) -> str | None:
    cursor = None
    for _ in range(20):  # at most 20 pages of 200 channels
        resp = client.conversations_list(
            types="public_channel,private_channel", limit=200, cursor=cursor, exclude_archived=True
        )
        channels: list[dict[str, Any]] = resp.get("channels", [])
        for ch in channels:
            if ch.get("name") == name:
                return str(ch["id"])
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None


def event_type_arg(word: str) -> str | None:
    """An event-type argument -> its route key ("bills", "Bill-Payment" are understood)."""
    key = word.lower().replace("-", "_")
    if key not in ROUTE_KEYS and key.endswith("s") and key[:-1] in ROUTE_KEYS:
        key = key[:-1]
    return key if key in ROUTE_KEYS else None


def routes_command(
    runtime: Runtime, client: WebClient, team_id: str, user_id: str, words: list[str]
) -> str:
    """Run `/qb-routes list|set|clear`; returns the ephemeral answer."""
    sub = words[0].lower() if words else ""
    if sub in HELP_WORDS:
        return ROUTES_USAGE
    if sub == "list":
        return list_command(runtime, team_id, " ".join(words[1:]))
    if sub not in ("set", "clear") or len(words) < (3 if sub == "set" else 2):
        return ROUTES_USAGE
    event_type = event_type_arg(words[1])
    if event_type is None:
        return f"Unknown event type `{words[1]}`.\n{ROUTES_USAGE}"
    company = " ".join(words[3:] if sub == "set" else words[2:]) or None
    channel = Channel(None)
    if sub == "set":
        # Slack calls first, outside the database transaction.
        channel = parse_channel(client, words[2])
        if channel.channel_id is None:
            return (
                f"I couldn't find the channel `{words[2]}`. Pick it with `#` so Slack "
                "completes it; a private channel must invite me first "
                f"(`/invite @qbslack` there).\n{ROUTES_USAGE}"
            )
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is None:
            return NOT_INSTALLED
        conn = None
        if company:
            conn = service.find_connection(tenant, company, db_session=db)
            if conn is None:
                return unknown_company(tenant, company, db_session=db)
        scope = f" for {conn.company_name}" if conn else ""
        label = ROUTE_LABELS[event_type]
        conn_id = conn.id if conn else None
        if sub == "clear":
            removed = routes.clear_route(
                tenant.id, event_type, connection_id=conn_id, db_session=db
            )
            if not removed:
                return f"There was no route for {label}{scope}."
            answer = f"Removed the route for {label}{scope}."
        else:
            assert channel.channel_id is not None
            routes.set_route(
                tenant.id,
                event_type,
                channel.channel_id,
                connection_id=conn_id,
                user_id=user_id,
                db_session=db,
            )
            answer = f"{label}{scope} now go to <#{channel.channel_id}>."
        # Events parked for a channel, or for want of a route, that the routes now cover.
        retried = retry_routable(tenant.id, db_session=db)
    schedule_events(runtime, retried)
    if retried:
        answer += f"\n{len(retried)} waiting event(s) will be posted now."
    return answer + (f"\n:warning: {channel.warning}" if channel.warning else "")


def list_command(runtime: Runtime, team_id: str, company: str) -> str:
    """`/qb-routes list [company]`: the routes, or where one company file's changes go."""
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is None:
            return NOT_INSTALLED
        if not company:
            return routes_text(
                tenant, routes.list_routes(tenant.id, db_session=db), limit=LIST_TEXT
            )
        conn = service.find_connection(tenant, company, db_session=db)
        if conn is None:
            return unknown_company(tenant, company, db_session=db)
        lines = routes_lines(routes.effective_routes(tenant.id, conn.id, db_session=db))
        return f"*{escape(conn.company_name)}*\n{lines}"


def replay_command(runtime: Runtime, team_id: str, user_id: str, words: list[str]) -> Reply:
    """Run `/qb-replay ...` for a manager; returns the ephemeral answer.

    `failed` and `since` answer with a preview and Replay / Cancel buttons (nothing changes
    before the click); a reference posts its object's latest change again, or lists the
    objects it names when there are several.
    """
    if not words or words[0].lower() in HELP_WORDS:
        return Reply(REPLAY_USAGE)
    head = words[0].lower()
    ids: list[int] = []
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is None:
            return Reply(NOT_INSTALLED)
        if head in ("failed", "since"):
            sel: replay.Selection | None
            if head == "failed":
                conn, problem = _company(tenant, words[1:], db)
                sel = replay.Selection("failed", connection_id=conn.id if conn else None)
            else:
                sel, conn, problem = _since(tenant, words[1:], db)
            if problem is not None:
                return Reply(problem)
            assert sel is not None
            return preview_reply(
                runtime.settings, team_id, user_id, tenant, conn, sel, db_session=db
            )
        key, conn, problem = _reference(tenant, words, db)
        if problem is not None:
            return Reply(problem)
        matches = replay.find_objects(
            tenant.id, key, db_session=db, connection_id=conn.id if conn else None
        )
        if not matches:
            where = f" in {escape(conn.company_name)}" if conn else ""
            return Reply(f"No event found for `{escape(key)}`{where}.\n{REPLAY_USAGE}")
        names = {c.id: c.company_name for c in tenant.connections}
        if len(matches) > 1:
            return matches_reply(runtime.settings, team_id, user_id, key, matches, names)
        line = match_line(matches[0], names.get(matches[0].connection_id, "?"))
        ids = replay.replay_event_ids(
            [matches[0].id], db_session=db, reason=f"replay {key}", tenant_id=tenant.id
        )
    if not ids:
        return Reply(f"{line}\nIt is on its way to Slack already: nothing to do.")
    schedule_events(runtime, ids)
    return Reply(f"Queued 1 event to post again: {line}. It goes through the current routes.")


def _company(tenant: Tenant, words: list[str], db: Session) -> tuple[Connection | None, str | None]:
    """The company file the trailing words name (None: every one), or why not."""
    name = " ".join(words)
    if not name:
        return None, None
    conn = service.find_connection(tenant, name, db_session=db)
    if conn is None:
        return None, unknown_company(tenant, name, db_session=db)
    return conn, None


def _since(
    tenant: Tenant, words: list[str], db: Session
) -> tuple[replay.Selection | None, Connection | None, str | None]:
    """`since YYYY-MM-DD [all] [company]` (also `… [company] all`) -> the selection."""
    if not words:
        return None, None, f"`/qb-replay since` needs a date like 2026-11-01.\n{REPLAY_USAGE}"
    since = _date(words[0])
    if since is None:
        return None, None, f"`{escape(words[0])}` is not a date like 2026-11-01.\n{REPLAY_USAGE}"
    if since > dt.datetime.now(dt.UTC).date():
        return None, None, f"{since} is in the future: nothing to post again."
    rest = words[1:]
    # "all" is the flag unless the company's own name is what it begins or ends.
    readings: list[tuple[bool, list[str]]] = []
    if rest and rest[0].lower() == "all":
        readings.append((True, rest[1:]))
    if len(rest) > 1 and rest[-1].lower() == "all":
        readings.append((True, rest[:-1]))
    readings.append((False, rest))
    problem = None
    for include_posted, company in readings:
        conn, problem = _company(tenant, company, db)
        if problem is None:
            sel = replay.Selection(
                "since",
                connection_id=conn.id if conn else None,
                since=since,
                include_posted=include_posted,
            )
            return sel, conn, None
    return None, None, problem


def _reference(
    tenant: Tenant, words: list[str], db: Session
) -> tuple[str, Connection | None, str | None]:
    """`<ref> [company]` -> the reference and company file, or why not.

    A reference with spaces ("INV 77") is taken whole when the words after the first name
    no company file but the whole text names an object.
    """
    key = words[0]
    if len(words) == 1:
        return key, None, None
    conn, problem = _company(tenant, words[1:], db)
    if problem is None:
        return key, conn, None
    whole = " ".join(words)
    if replay.find_objects(tenant.id, whole, db_session=db):
        return whole, None, None
    return key, None, problem


def _date(word: str) -> dt.date | None:
    """A YYYY-MM-DD date, or None."""
    if not _ISO_DATE.match(word):
        return None
    try:
        return dt.date.fromisoformat(word)
    except ValueError:
        return None
