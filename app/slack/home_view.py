"""App Home's view: what needs attention first, then each company file's status and stats.

The status words come from tenants.health (the function the alerts, `qbslack tenants` and
/metrics use), the alert words from jobs.alert_messages (the alerts' own titles and buttons).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.slack.text import button, context, fit_lines, section, type_word
from app.slack.views import routes_text
from jobs.alert_messages import alert_title, fix_buttons, rebind_button, reset_password_button
from jobs.enums import AlertKind
from jobs.models import Event, HealthAlert
from jobs.mrkdwn import escape
from jobs.service import ConnectionOutbox, Waiting
from jobs.slack_client import advice
from tenants.enums import ConnectionStatus
from tenants.health import ConnectionHealth, Health
from tenants.managers import MAX_ADDED
from tenants.models import Connection, Manager, Route, Tenant

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
UNROUTED_MEANS = (
    ":mailbox_with_mail: *Unrouted* changes have no channel: no route names their type and "
    "there is no *Default* channel. Set one with *Edit routes*: they are posted then."
)
QUICKBOOKS_TODO = (
    "On the PC, open QuickBooks with this company file and check it answers (no open "
    "dialog, no update waiting); the Web Connector's *View Log* has details. The next "
    "update tries again by itself."
)


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
        _text("QuickBooks Desktop changes, posted to the channels you choose."),
    ]
    if tenant.status != "active":
        blocks.append(
            _text(
                f":double_vertical_bar: This workspace is *{escape(tenant.status)}*: "
                f"{escape(tenant.status_reason or 'reinstall qbslack to resume')}."
            )
        )
    blocks += attention_blocks(tenant, alerts, health=health, admin=admin)
    actions = [manager_actions()] if admin else []
    routes_part = [{"type": "divider"}, _text(routes_text(tenant, routes))]
    reserved = len(actions) + len(routes_part) + (MANAGERS_MIN if admin and managers else 0)
    room = MAX_BLOCKS - len(blocks) - reserved
    waiting = waiting or {}
    if len(tenant.connections) <= FULL_CARDS and outbox is not None:
        cards: list[dict[str, Any]] = []
        for conn in tenant.connections:
            if admin:
                cards += [
                    {"type": "divider"},
                    _text(company_text(conn, health[conn.id], outbox[conn.id])),
                ]
                cards += company_buttons(conn, outbox[conn.id], (links or {})[conn.id])
            else:
                cards += [{"type": "divider"}, _text(member_company_text(conn, health[conn.id]))]
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
        _text(
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
        _text(
            company_line(conn, health[conn.id], waiting.get(conn.id), admin=admin),
            accessory=_button("company_detail", "Details", str(conn.id)),
        )
        for conn in shown
    ]
    tail: list[dict[str, Any]] = []
    if paged:
        end = start + len(shown)
        tail.append(_context(f"Showing {start + 1:,}–{end:,} of {total:,}"))
        pager: list[dict[str, Any]] = []
        if start > 0:
            pager.append(_button("home_page_prev", f"Previous {PAGE}", str(max(0, start - PAGE))))
        if end < total:
            pager.append(_button("home_page_next", f"Next {min(PAGE, total - end)}", str(end)))
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
    blocks: list[dict[str, Any]] = [{"type": "divider"}, _text("*Needs attention*")]
    for alert in alerts[:MAX_ALERTS]:
        company = names.get(alert.connection_id, "a company file")
        detail = dict(alert.detail or {})
        now = health.get(alert.connection_id)
        if alert.kind == AlertKind.STALE and now is not None and now.seconds_since_poll:
            detail["seconds_since_poll"] = now.seconds_since_poll  # "since 5 h" as of now
        title = alert_title(alert.kind, company, detail)
        emoji = ALERT_EMOJI.get(alert.kind, ":warning:")
        blocks.append(_text(f"{emoji} *{escape(title)}*\nSince {_ts(alert.opened_at)}"))
        if admin:
            payload = {"connection_id": alert.connection_id, "company": company}
            buttons = fix_buttons(alert.kind, payload, detail)
            if buttons:
                blocks.append({"type": "actions", "elements": buttons})
    if len(alerts) > MAX_ALERTS:
        more = len(alerts) - MAX_ALERTS
        blocks.append(_context(f"…and {more} more: each company file's status is below."))
    return blocks


def company_text(conn: Connection, health: ConnectionHealth, stats: ConnectionOutbox) -> str:
    """One company file: its name, status, stats (one scope each), binding and problems."""
    lines = [
        f"*{escape(conn.company_name)}*"
        + (
            f" ({escape(conn.qb_company_name)})"
            if conn.qb_company_name and conn.qb_company_name != conn.company_name
            else ""
        ),
        status_words(conn, health),
        *stats_lines(conn, stats),
        binding_line(conn),
    ]
    if conn.last_error:
        lines.append(quickbooks_error_line(conn))
    lines += [f":x: {problem}" for problem in delivery_problems(conn, stats)]
    lines.append(f"QBWC username: `{escape(conn.qbwc_username)}`")
    return fit_lines(lines, more=lambda n: f"…and {n} more line(s): see *Details*.")


def stats_lines(conn: Connection, stats: ConnectionOutbox) -> list[str]:
    """The last 24 h by outcome, what waits to be replayed, and what "unrouted" means."""
    lines = [
        f"Last 24 h: {stats.posted_24h} posted · {stats.failed_24h} failed · "
        f"{stats.unrouted_24h} unrouted"
    ]
    if stats.waiting:
        waiting = [f"{stats.failed} failed"] if stats.failed else []
        waiting += [f"{stats.unrouted} unrouted"] if stats.unrouted else []
        lines.append("Waiting to be replayed: " + " · ".join(waiting))
    if stats.unrouted or stats.unrouted_24h:
        lines.append(UNROUTED_MEANS)
    if stats.waiting_notices:
        lines.append(
            ':mailbox_with_mail: The "connected" notice waits for a channel: set a route '
            "for this company or the workspace with `/qb-routes`"
        )
    return lines


def binding_line(conn: Connection) -> str:
    """Which company file on the PC this connection reads."""
    if conn.bound_at is None:
        return "Company file: not bound yet (the first complete sync binds it)"
    return f"Company file: *{escape(conn.bound_company or conn.company_name)}*" + (
        f" `{escape(conn.qb_file_path)}`" if conn.qb_file_path else ""
    )


def quickbooks_error_line(conn: Connection) -> str:
    """The last QuickBooks error (soap wrote it in words), and what to do about it."""
    return f"Last QuickBooks error: {escape((conn.last_error or '')[:500])}. {QUICKBOOKS_TODO}"


def member_company_text(conn: Connection, health: ConnectionHealth) -> str:
    """One company file as a member sees it: its name and state in words, nothing more."""
    line = f"{health.emoji} *{health.label}*"
    if health.state != Health.NEW:
        line += f" · {health.last_poll_text}"
    lines = [f"*{escape(conn.company_name)}*", line]
    if health.state not in (Health.OK, Health.NEW) or health.locked:
        lines.append("Something needs a look: ask a qbslack manager.")
    return "\n".join(lines)


def status_words(conn: Connection, health: ConnectionHealth) -> str:
    """The status line ("⚠ *Stale* · last poll 3 h ago") and what it means, in plain words."""
    head = f"{health.emoji} *{health.label}*"
    lines = [head + (f" · {health.last_poll_text}" if health.state != Health.NEW else "")]
    if health.state == Health.NEW:
        lines[0] += " — add the .qwc file to QuickBooks Web Connector"
    elif health.state == Health.STALE:
        lines.append(
            f"No update from QuickBooks Web Connector for over {_span(health.stale_after)}: "
            "is the PC with QuickBooks on, and the Web Connector running with Auto-Run?"
        )
    elif health.state == Health.ERROR:
        streak = f" ({health.error_streak} in a row)" if health.error_streak > 1 else ""
        lines.append(f"The last update ended with a QuickBooks error{streak}, below")
    elif health.state == Health.PAUSED:
        lines.append("Slack is disconnected: messages wait until qbslack is reinstalled")
    elif health.state == Health.DISABLED:
        lines.append("Switched off by the operator")
    if conn.status == ConnectionStatus.WRONG_FILE:
        lines.append(
            "Wrong company file open: QuickBooks had "
            f"*{escape(conn.open_company or 'another company file')}* open; nothing was read. "
            "If that file really is this company's, click *This is the right file now*"
        )
    if health.locked:
        lines.append(
            f":lock: Web Connector login locked after wrong passwords until "
            f"{_ts(conn.locked_until)} — check the password in the Web Connector, or reset it"
        )
    return "\n".join(lines)


def delivery_problems(conn: Connection, outbox: ConnectionOutbox) -> list[str]:
    """The latest failed deliveries of a company file: what, where, why, what to do."""
    return [failure_sentence(conn.company_name, e) for e in outbox.latest_failures]


def failure_sentence(company: str, event: Event) -> str:
    """ "Could not post bill INV-7 of Client A to #ap: the channel is archived. Unarchive…" """
    what = type_word(event.event_type, event.object_type)
    name = event.ref_number or event.counterparty
    reason = advice(event.last_error)
    return (
        f"Could not post {escape(what)}{f' {escape(name)}' if name else ''} of "
        f"*{escape(company)}*"
        + (f" to <#{event.channel_id}>" if event.channel_id else "")
        + f": {escape(reason.happened)}. {reason.todo}"
    )


def company_buttons(conn: Connection, stats: ConnectionOutbox, link: str) -> list[dict[str, Any]]:
    """A manager's buttons for one company file."""
    blocks: list[dict[str, Any]] = []
    if conn.status == ConnectionStatus.WRONG_FILE:
        fix = rebind_button(
            conn.id,
            company=conn.company_name,
            was=conn.bound_company or conn.company_name,
            open_company=conn.open_company or "another company file",
            open_path=conn.open_file_path,
        )
        blocks.append({"type": "actions", "elements": [fix]})
    elements: list[dict[str, Any]] = [
        {
            "type": "button",
            "action_id": "download_qwc",
            "url": link,
            "text": {"type": "plain_text", "text": "Download .qwc"},
            "value": str(conn.id),
        },
        reset_password_button(str(conn.id)),
    ]
    if stats.waiting:
        elements.append(
            {
                "type": "button",
                "action_id": "replay_failed",
                "value": str(conn.id),
                "text": {"type": "plain_text", "text": f"Replay failed ({stats.waiting})"},
            }
        )
    blocks.append({"type": "actions", "elements": elements})
    return blocks


@dataclass(frozen=True)
class Managers:
    """Who manages a workspace besides its admins and owners."""

    installer: str | None
    added: list[Manager]


def managers_blocks(managers: Managers, *, room: int) -> list[dict[str, Any]]:
    """The "Managers" section: who manages qbslack here, Remove buttons, "Add a manager".

    Each added manager gets a line with a Remove button when `room` blocks allow it;
    otherwise one list and a picker to remove from it.
    """
    intro = (
        "*Managers*\nqbslack managers edit routes, add company files, reset Web Connector "
        "passwords and replay. This workspace's admins and owners always are."
    )
    if managers.installer:
        intro += (
            f"\nInstalled by <@{managers.installer}>: a manager while they are a member "
            "of this workspace."
        )
    blocks: list[dict[str, Any]] = [{"type": "divider"}, _text(intro)]
    added = managers.added
    can_add = len(added) < MAX_ADDED
    if not added:
        blocks.append(_context("No one added yet: add a bookkeeper or a colleague below."))
    elif len(added) + len(blocks) + int(can_add) <= room:
        blocks += [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _added_line(m)},
                "accessory": _remove_button(m.user_id),
            }
            for m in added
        ]
    else:
        listed = ", ".join(f"<@{m.user_id}>" for m in added)
        blocks.append(_text(f"Added: {listed}"))
        picker = _user_picker("remove_manager", "Remove a manager…")
        picker["confirm"] = _confirm(
            "Remove this manager?", "They can no longer change qbslack's set-up.", "Remove"
        )
        blocks.append({"type": "actions", "elements": [picker]})
    if can_add:
        blocks.append(
            {"type": "actions", "elements": [_user_picker("add_manager", "Add a manager…")]}
        )
    else:
        blocks.append(_context(f"{MAX_ADDED} added managers is the most: remove one to add."))
    return blocks


def _added_line(m: Manager) -> str:
    by = f" by <@{m.added_by}>" if m.added_by else ""
    return f"<@{m.user_id}> · added{by} {_ts(m.added_at)}"


def _remove_button(user_id: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": "remove_manager",
        "value": user_id,
        "text": {"type": "plain_text", "text": "Remove"},
        "confirm": _confirm(
            "Remove this manager?", "They can no longer change qbslack's set-up.", "Remove"
        ),
    }


def _user_picker(action_id: str, placeholder: str) -> dict[str, Any]:
    return {
        "type": "users_select",
        "action_id": action_id,
        "placeholder": {"type": "plain_text", "text": placeholder},
    }


def _confirm(title: str, text: str, yes: str) -> dict[str, Any]:
    return {
        "title": {"type": "plain_text", "text": title},
        "text": {"type": "plain_text", "text": text},
        "confirm": {"type": "plain_text", "text": yes},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }


def _span(value: dt.timedelta) -> str:
    """A threshold in words: "45 s", "2.5 min", "15 min", "4 h"."""
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{round(seconds)} s"
    if seconds < 3 * 3600:
        return f"{round(seconds / 60, 1):g} min"
    return f"{round(seconds / 3600, 1):g} h"


def _ts(value: dt.datetime | None) -> str:
    if value is None:
        return "never"
    epoch = int(value.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{value:%Y-%m-%d %H:%M} UTC>"


def _short(name: str) -> str:
    return name if len(name) <= 100 else name[:99] + "…"


def _text(text: str, *, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    return section(text, accessory=accessory)


def _context(text: str) -> dict[str, Any]:
    return context(text)


def _button(action_id: str, text: str, value: str) -> dict[str, Any]:
    return button(action_id, text, value)
