"""What App Home and a company's detail say about one company file: status, stats, fixes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.slack.text import fit_lines, type_word
from jobs.alert_messages import rebind_button, reset_password_button
from jobs.models import Event
from jobs.mrkdwn import escape
from jobs.service import ConnectionOutbox
from jobs.slack_client import advice
from tenants.enums import ConnectionStatus
from tenants.health import ConnectionHealth, Health
from tenants.models import Connection

UNROUTED_MEANS = (
    ":mailbox_with_mail: *Unrouted* changes have no channel: no route names their type and "
    "there is no *Default* channel. Set one with *Edit routes*: they are posted then."
)
QUICKBOOKS_TODO = (
    "On the PC, open QuickBooks with this company file and check it answers (no open "
    "dialog, no update waiting); the Web Connector's *View Log* has details. The next "
    "update tries again by itself."
)


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
            f"{when_text(conn.locked_until)} — check the password in the Web Connector, or reset it"
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


def _span(value: dt.timedelta) -> str:
    """A threshold in words: "45 s", "2.5 min", "15 min", "4 h"."""
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{round(seconds)} s"
    if seconds < 3 * 3600:
        return f"{round(seconds / 60, 1):g} min"
    return f"{round(seconds / 3600, 1):g} h"


def when_text(value: dt.datetime | None) -> str:
    if value is None:
        return "never"
    epoch = int(value.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{value:%Y-%m-%d %H:%M} UTC>"
