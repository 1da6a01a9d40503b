"""App Home's view: what needs attention first, then each company file's status and stats.

The status words come from tenants.health (the function the alerts, `qbslack tenants` and
/metrics use), the alert words from jobs.alert_messages (the alerts' own titles and buttons).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.slack.views import routes_text
from jobs.alert_messages import alert_title, fix_buttons, rebind_button, reset_password_button
from jobs.enums import AlertKind
from jobs.models import HealthAlert
from jobs.mrkdwn import escape
from jobs.service import ConnectionOutbox
from tenants.enums import ConnectionStatus
from tenants.health import ConnectionHealth, Health
from tenants.managers import MAX_ADDED
from tenants.models import Connection, Manager, Route, Tenant

MAX_BLOCKS = 100  # Slack's limit for a Home tab
MAX_ALERTS = 10  # shown under "Needs attention"; the rest are counted
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
    links: dict[int, str],
    outbox: dict[int, ConnectionOutbox],
    health: dict[int, ConnectionHealth],
    alerts: list[HealthAlert],
    routes: list[Route],
    managers: Managers | None = None,
) -> dict[str, Any]:
    """The App Home tab of a workspace; managers (`admin`) also get the details and buttons.

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
    for conn in tenant.connections:
        if admin:
            text = company_text(conn, health[conn.id], outbox[conn.id])
            blocks += [{"type": "divider"}, _text(text)]
            blocks += company_buttons(conn, outbox[conn.id], links[conn.id])
        else:
            blocks += [{"type": "divider"}, _text(member_company_text(conn, health[conn.id]))]
    blocks += [{"type": "divider"}, _text(routes_text(tenant, routes))]
    if admin:
        blocks.append(
            {
                "type": "actions",
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
        )
    if admin and managers is not None:
        tail = managers_blocks(managers, room=MAX_BLOCKS - len(blocks))
        # The managers stay reachable: a long list of company files gives way to them.
        blocks = blocks[: MAX_BLOCKS - len(tail)] + tail
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


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
        blocks.append(_context(f"…and {more} more; each company file's status is below."))
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
        f"Last 24 h: {stats.posted_24h} posted · {stats.failed_24h} failed · "
        f"{stats.unrouted_24h} unrouted",
    ]
    if stats.waiting:
        waiting = [f"{stats.failed} failed"] if stats.failed else []
        waiting += [f"{stats.unrouted} unrouted"] if stats.unrouted else []
        lines.append("Waiting to be replayed: " + " · ".join(waiting))
    if conn.bound_at is not None:
        lines.append(
            f"Company file: *{escape(conn.bound_company or conn.company_name)}*"
            + (f" `{escape(conn.qb_file_path)}`" if conn.qb_file_path else "")
        )
    else:
        lines.append("Company file: not bound yet (the first complete sync binds it)")
    if stats.waiting_notices:
        lines.append(
            ':mailbox_with_mail: The "connected" notice waits for a channel: set a route '
            "for this company or the workspace with `/qb-routes`"
        )
    if conn.last_error:
        lines.append(f"Last QuickBooks error: {escape(conn.last_error[:500])}")
    lines += [f":x: {problem}" for problem in delivery_problems(stats)]
    lines.append(f"QBWC username: `{escape(conn.qbwc_username)}`")
    return "\n".join(lines)


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
            f"*{escape(conn.open_company or 'another company file')}* open; nothing was read"
        )
    if health.locked:
        lines.append(
            f":lock: Web Connector login locked after wrong passwords until "
            f"{_ts(conn.locked_until)} — check the password in the Web Connector, or reset it"
        )
    return "\n".join(lines)


def delivery_problems(outbox: ConnectionOutbox) -> list[str]:
    """The latest failed deliveries of a company file, readable (channel and reason)."""
    return [
        f"Could not post {escape(e.object_type)} {escape(e.ref_number or e.object_id)}"
        + (f" to <#{e.channel_id}>" if e.channel_id else "")
        + f": {escape(e.last_error or 'unknown error')} — fix it, then `/qb-replay failed`"
        for e in outbox.latest_failures
    ]


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


def _text(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}
