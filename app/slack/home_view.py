"""App Home's view: what needs attention first, then each company file's status and stats.

The status words come from tenants.health (the function the alerts, `qbslack tenants` and
/metrics use), the alert words from jobs.alert_messages (the alerts' own titles and buttons).
"""

from __future__ import annotations

from typing import Any

from app.slack.company_text import (
    company_buttons,
    company_text,
    member_company_text,
    when_text,
)
from app.slack.home_managers import Managers, managers_blocks
from app.slack.text import button, context, section
from app.slack.views import routes_text
from jobs.alert_messages import alert_title, fix_buttons
from jobs.enums import AlertKind
from jobs.models import HealthAlert
from jobs.mrkdwn import escape
from jobs.service import ConnectionOutbox, Waiting
from tenants.health import ConnectionHealth, Health
from tenants.models import Connection, Route, Tenant

MAX_BLOCKS = 100  # Slack's limit for a Home tab
MAX_ALERTS = 10  # shown under "Needs attention"; the rest are counted
PAGE = 20  # company files listed at once; the rest by paging or the search
# Up to this many company files, each one's whole card (at most 4 blocks) is in App Home:
# a small firm keeps the .qwc and password buttons one click away.
FULL_CARDS = 10
MANAGERS_MIN = 5  # blocks the Managers section needs at least (it compacts itself)
ALERT_EMOJI: dict[str, str] = {
    AlertKind.STALE: ":warning:",
    AlertKind.QUICKBOOKS_ERROR: ":x:",
    AlertKind.LOGIN_LOCKED: ":lock:",
    AlertKind.DELIVERY_FAILED: ":x:",
    AlertKind.UNROUTED: ":mailbox_with_mail:",
    AlertKind.WRONG_FILE: ":no_entry:",
}


def home_view(
    tenant: Tenant,
    *,
    admin: bool,
    health: dict[int, ConnectionHealth],
    alerts: list[HealthAlert],
    routes: list[Route],
    links: dict[int, str] | None = None,
    outbox: dict[int, ConnectionOutbox] | None = None,
    waiting: dict[int, Waiting] | None = None,
    offset: int = 0,
    managers: Managers | None = None,
) -> dict[str, Any]:
    """The App Home tab of a workspace; managers (`admin`) also get the details and buttons.

    Up to FULL_CARDS company files, each one's card (`outbox` and `links` per file); more,
    one line each, PAGE at a time from `offset` (problems first, then by name), with a
    search, each line opening its Details. Never more than MAX_BLOCKS blocks: the manager
    actions and the Managers section always fit.

    Members see each company file's state in words; QBWC usernames, QuickBooks' error texts
    and failed deliveries' details are for managers, as is the "Managers" section.
    """
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "qbslack"}},
        section("QuickBooks Desktop changes, posted to the channels you choose."),
    ]
    if tenant.status != "active":
        blocks.append(
            section(
                f":double_vertical_bar: This workspace is *{escape(tenant.status)}*: "
                f"{escape(tenant.status_reason or 'reinstall qbslack to resume')}."
            )
        )
    blocks += attention_blocks(tenant, alerts, health=health, admin=admin)
    actions = [manager_actions()] if admin else []
    routes_part = [{"type": "divider"}, section(routes_text(tenant, routes))]
    reserved = len(actions) + len(routes_part) + (MANAGERS_MIN if admin and managers else 0)
    room = MAX_BLOCKS - len(blocks) - reserved
    waiting = waiting or {}
    if len(tenant.connections) <= FULL_CARDS and outbox is not None:
        cards: list[dict[str, Any]] = []
        for conn in tenant.connections:
            if admin:
                cards += [
                    {"type": "divider"},
                    section(company_text(conn, health[conn.id], outbox[conn.id])),
                ]
                cards += company_buttons(conn, outbox[conn.id], (links or {})[conn.id])
            else:
                cards += [{"type": "divider"}, section(member_company_text(conn, health[conn.id]))]
        blocks += cards[:room]
    else:
        blocks += company_list(tenant, health, waiting, admin=admin, offset=offset, room=room)
    blocks += actions + routes_part
    if admin and managers is not None:
        blocks += managers_blocks(managers, room=MAX_BLOCKS - len(blocks))
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def manager_actions() -> dict[str, Any]:
    """ "Add a company file" and "Edit routes": always in a manager's App Home."""
    return {
        "type": "actions",
        "block_id": "manager_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "add_company",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Add a company file"},
            },
            {
                "type": "button",
                "action_id": "edit_routes",
                "text": {"type": "plain_text", "text": "Edit routes"},
            },
        ],
    }


def needs_look(health: ConnectionHealth, waiting: Waiting | None) -> bool:
    """A company file with something to fix: listed first."""
    if health.state not in (Health.OK, Health.NEW) or health.locked:
        return True
    return waiting is not None and waiting.total > 0


def ordered(
    conns: list[Connection], health: dict[int, ConnectionHealth], waiting: dict[int, Waiting]
) -> list[Connection]:
    """Company files as App Home lists them: those that need a look first, then by name."""
    return sorted(
        conns,
        key=lambda c: (
            not needs_look(health[c.id], waiting.get(c.id)),
            c.company_name.casefold(),
            c.id,
        ),
    )


def page_start(offset: int, total: int) -> int:
    """A requested offset made valid: within the list, on a page boundary."""
    if total <= 0:
        return 0
    offset = min(max(0, offset), total - 1)
    return offset - offset % PAGE


def company_list(
    tenant: Tenant,
    health: dict[int, ConnectionHealth],
    waiting: dict[int, Waiting],
    *,
    admin: bool,
    offset: int,
    room: int,
) -> list[dict[str, Any]]:
    """The company files, one line each with a Details button, a page at a time."""
    conns = ordered(list(tenant.connections), health, waiting)
    total = len(conns)
    start = page_start(offset, total)
    paged = total > PAGE
    head: list[dict[str, Any]] = [
        {"type": "divider"},
        section(
            f"*Company files* ({total:,})" + (" · those that need a look first" if paged else "")
        ),
    ]
    if paged:
        head.append(
            {
                "type": "actions",
                "block_id": "company_search",
                "elements": [
                    {
                        "type": "external_select",
                        "action_id": "company_search",
                        "min_query_length": 0,
                        "placeholder": {"type": "plain_text", "text": "Find a company file…"},
                    }
                ],
            }
        )
    tail_size = 2 if paged else 0
    shown = conns[start : start + max(0, min(PAGE, room - len(head) - tail_size))]
    lines = [
        section(
            company_line(conn, health[conn.id], waiting.get(conn.id), admin=admin),
            accessory=button("company_detail", "Details", str(conn.id)),
        )
        for conn in shown
    ]
    tail: list[dict[str, Any]] = []
    if paged:
        end = start + len(shown)
        tail.append(context(f"Showing {start + 1:,}–{end:,} of {total:,}"))
        pager: list[dict[str, Any]] = []
        if start > 0:
            pager.append(button("home_page_prev", f"Previous {PAGE}", str(max(0, start - PAGE))))
        if end < total:
            pager.append(button("home_page_next", f"Next {min(PAGE, total - end)}", str(end)))
        if pager:
            tail.append({"type": "actions", "block_id": "home_pager", "elements": pager})
    return head + lines + tail


def company_line(
    conn: Connection, health: ConnectionHealth, waiting: Waiting | None, *, admin: bool
) -> str:
    """One company file on one line: name, state, last poll; for managers what waits."""
    parts = [f"*{escape(_short(conn.company_name))}*", f"{health.emoji} {health.label}"]
    if health.state != Health.NEW:
        parts.append(health.last_poll_text)
    if health.locked:
        parts.append(":lock: login locked")
    if admin and waiting is not None:
        if waiting.failed:
            parts.append(f"{waiting.failed:,} failed")
        if waiting.unrouted:
            parts.append(f"{waiting.unrouted:,} unrouted")
    elif not admin and needs_look(health, None):
        parts.append("ask a qbslack manager")
    return " · ".join(parts)


def attention_blocks(
    tenant: Tenant,
    alerts: list[HealthAlert],
    *,
    health: dict[int, ConnectionHealth],
    admin: bool,
) -> list[dict[str, Any]]:
    """ "Needs attention": the workspace's open health alerts, oldest first.

    Everyone sees the conditions; managers also get each one's fix buttons (the same the
    alert message carries).
    """
    if not alerts:
        return []
    names = {c.id: c.company_name for c in tenant.connections}
    blocks: list[dict[str, Any]] = [{"type": "divider"}, section("*Needs attention*")]
    for alert in alerts[:MAX_ALERTS]:
        company = names.get(alert.connection_id, "a company file")
        detail = dict(alert.detail or {})
        now = health.get(alert.connection_id)
        if alert.kind == AlertKind.STALE and now is not None and now.seconds_since_poll:
            detail["seconds_since_poll"] = now.seconds_since_poll  # "since 5 h" as of now
        title = alert_title(alert.kind, company, detail)
        emoji = ALERT_EMOJI.get(alert.kind, ":warning:")
        blocks.append(section(f"{emoji} *{escape(title)}*\nSince {when_text(alert.opened_at)}"))
        if admin:
            payload = {"connection_id": alert.connection_id, "company": company}
            buttons = fix_buttons(alert.kind, payload, detail)
            if buttons:
                blocks.append({"type": "actions", "elements": buttons})
    if len(alerts) > MAX_ALERTS:
        more = len(alerts) - MAX_ALERTS
        blocks.append(context(f"…and {more} more: each company file's status is below."))
    return blocks


def _short(name: str) -> str:
    return name if len(name) <= 100 else name[:99] + "…"
