"""Slash commands: /qb-routes and /qb-replay (parsing and the work behind them)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.core.runtime import Runtime
from app.slack.views import ROUTE_LABELS, routes_text
from jobs import replay
from jobs.outbox import schedule_events
from jobs.parked import retry_routable
from tenants import routes, service
from tenants.models import ROUTE_KEYS

ROUTES_USAGE = (
    "Usage: `/qb-routes` (opens the editor) · `/qb-routes list` · "
    "`/qb-routes set <event-type> <#channel> [company]` · "
    "`/qb-routes clear <event-type> [company]`\nEvent types: " + ", ".join(ROUTE_KEYS)
)
REPLAY_USAGE = (
    "Usage: `/qb-replay failed` · `/qb-replay <TxnID | ListID | RefNumber>` · "
    "`/qb-replay since YYYY-MM-DD`"
)
NOT_INSTALLED = "qbslack is not installed in this workspace."
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
    if sub == "list":
        with runtime.transaction() as db:
            tenant = service.get_tenant(team_id, db_session=db)
            return (
                routes_text(tenant, routes.list_routes(tenant.id, db_session=db))
                if tenant
                else NOT_INSTALLED
            )
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
                names = ", ".join(c.company_name for c in tenant.connections)
                return f"No company named `{company}`. Companies: {names}"
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


def replay_command(runtime: Runtime, team_id: str, words: list[str]) -> str:
    """Run `/qb-replay ...`; re-posts through the delivery path; returns the answer."""
    if not words:
        return REPLAY_USAGE
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db)
        if tenant is None:
            return NOT_INSTALLED
        if words[0].lower() == "failed" and len(words) == 1:
            ids, what = replay.replay_failed(tenant.id, db_session=db), "failed or unrouted"
            if not ids:
                return "Nothing to post again: no delivery has failed."
        elif words[0].lower() == "since" and len(words) == 2:
            since = _date(words[1])
            if since is None:
                return f"`{words[1]}` is not a date like 2026-11-01.\n{REPLAY_USAGE}"
            if since > dt.datetime.now(dt.UTC).date():
                return f"{since} is in the future: nothing to post again."
            ids, what = replay.replay_since(tenant.id, since, db_session=db), f"since {since}"
        elif len(words) == 1:
            ids, what = replay.replay_object(tenant.id, words[0], db_session=db), words[0]
            if not ids:
                return f"No event found for `{words[0]}`.\n{REPLAY_USAGE}"
        else:
            return REPLAY_USAGE
    schedule_events(runtime, ids)
    return f"Queued {len(ids)} event(s) to post again ({what})."


def _date(word: str) -> dt.date | None:
    """A YYYY-MM-DD date, or None."""
    if not _ISO_DATE.match(word):
        return None
    try:
        return dt.date.fromisoformat(word)
    except ValueError:
        return None
