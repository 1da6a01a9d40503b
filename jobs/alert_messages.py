"""Health alerts in words a bookkeeper acts on: what happened, what to do, the fix button."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from jobs.enums import AlertKind, AlertPhase
from jobs.mrkdwn import MAX_TEXT, clip, escape, header, local_time, section
from tenants.health import ago

Detail = Mapping[str, Any]

WEB_CONNECTOR_STEPS = (
    "On the PC that runs QuickBooks:\n"
    "1. Open *QuickBooks Web Connector* (Windows Start menu → QuickBooks → Web Connector).\n"
    "2. Find the row *qbslack - {company}*: tick *Auto-Run* and check *Every_Min*.\n"
    "3. Tick the row's box and click *Update Selected*; its *Status* column says what happens.\n"
    "4. To poll with QuickBooks closed: in QuickBooks, *Edit → Preferences → Integrated "
    "Applications → Company Preferences*, select qbslack, *Properties*, and tick *Allow this "
    "application to login automatically*."
)


def _when(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _stale(company: str, d: Detail) -> tuple[str, str]:
    last = _when(d.get("last_poll_at"))
    seen = (
        f"{ago(float(d.get('seconds_since_poll') or 0))}, {local_time(last)}" if last else "never"
    )
    title = f"No update from {company}'s Web Connector for {_ago_words(d)}"
    body = (
        f"qbslack last heard from the Web Connector of *{escape(company)}* {seen}. "
        f"It should come by every {d.get('every_minutes') or '?'} min; after "
        f"{_number(d.get('stale_minutes'))} min without an update a company file counts as stale, "
        "and nothing from it reaches Slack.\n"
        "Usually the PC is asleep or off, the Web Connector is closed (or its Windows user "
        "logged out), QuickBooks is waiting for a login or a password, or Auto-Run is off.\n\n"
        + WEB_CONNECTOR_STEPS.format(company=escape(company))
    )
    return title, body


def _number(value: Any) -> str:
    """15.0 as "15", 0.5 as "0.5"."""
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return "?"


def _ago_words(d: Detail) -> str:
    seconds = d.get("seconds_since_poll")
    return ago(float(seconds)).removesuffix(" ago") if seconds is not None else "a while"


def _quickbooks_error(company: str, d: Detail) -> tuple[str, str]:
    title = f"QuickBooks error for {company}, {d.get('sessions') or 3} updates in a row"
    code = d.get("code")
    body = (
        f"The last {d.get('sessions') or 3} updates of *{escape(company)}* ended with: "
        f"{escape(str(d.get('error') or 'an error').rstrip('. '))}"
        + (f" (code `{escape(code)}`)" if code and str(code) not in str(d.get("error")) else "")
        + ".\nNothing from this company file reaches Slack until it clears; no change is lost. "
        "On the PC, open QuickBooks with this company file and check it answers (no open "
        "dialog, no update waiting, the file not in single-user mode elsewhere); the Web "
        "Connector's *View Log* shows details. The next update tries again by itself."
    )
    return title, body


def _login_locked(company: str, d: Detail) -> tuple[str, str]:
    until = _when(d.get("locked_until"))
    source = f" from {escape(d['source'])}" if d.get("source") else ""
    title = f"Web Connector login for {company} locked after wrong passwords"
    body = (
        f"Repeated wrong passwords{source} locked the qbslack login "
        f"`{escape(d.get('username') or '?')}` of *{escape(company)}*"
        + (f" until {local_time(until)}" if until else "")
        + ". Its updates are refused meanwhile.\n"
        "If the Web Connector holds an old password: *Reset QBWC password* below, then in the "
        "Web Connector type the new one into the *Password* column of the qbslack row and "
        "click *Update Selected*. If nobody at the firm did this, reset it anyway: the old "
        "password stops working at once."
    )
    return title, body


def _delivery_failed(company: str, d: Detail) -> tuple[str, str]:
    count = int(d.get("count") or 0)
    channel = f"<#{d['channel']}>" if d.get("channel") else "its channel"
    title = f"{count} message(s) of {company} could not be posted"
    body = (
        f"Slack refused {count} message(s) of *{escape(company)}* in {channel}: "
        f"{escape(d.get('error') or 'an error')}.\n"
        "To fix it: invite the app (`/invite @qbslack` in the channel), unarchive the "
        "channel, or point the route at another channel with *Edit routes*. They are posted "
        "by themselves once the bot joins, the channel is unarchived or the route changes; "
        "*Replay failed* posts them again now."
    )
    return title, body


def _unrouted(company: str, d: Detail) -> tuple[str, str]:
    count = int(d.get("count") or 0)
    types = ", ".join(str(t).replace("_", " ") for t in d.get("types") or []) or "some types"
    title = f"{count} change(s) of {company} have no channel"
    body = (
        f"{count} change(s) of *{escape(company)}* ({escape(types)}) wait because no route "
        "names their type and there is no `default` channel. Set one with *Edit routes* or "
        "`/qb-routes set default #channel`: they are posted then."
    )
    return title, body


def _wrong_file(company: str, d: Detail) -> tuple[str, str]:
    open_company = d.get("open_company") or "another company file"
    title = f"Wrong company file: {open_company} was open instead of {company}"
    body = escape(
        d.get("text")
        or f"QuickBooks had {open_company} open instead of {company}; nothing was read."
    )
    return title, body


def _clock_ahead(company: str, d: Detail) -> tuple[str, str]:
    title = f"QuickBooks' clock is in the future for {company}"
    body = (
        f"QuickBooks stamped a change of *{escape(company)}* {escape(d.get('stamped') or '')}, "
        "more than a day ahead of now. It was posted, and later changes keep coming, but the "
        "PC's date or time is probably wrong: check it in Windows (Settings → Time & "
        "language), then in QuickBooks."
    )
    return title, body


def _slack_disconnected(company: str, d: Detail) -> tuple[str, str]:
    title = f"Slack is disconnected: nothing of {company} can be posted"
    body = (
        "The app's Slack token was revoked or the app was uninstalled. Changes wait in "
        "qbslack (none is lost): reinstall the app from qbslack's install link to resume."
    )
    return title, body


WORDS: dict[str, Callable[[str, Detail], tuple[str, str]]] = {
    AlertKind.STALE: _stale,
    AlertKind.QUICKBOOKS_ERROR: _quickbooks_error,
    AlertKind.LOGIN_LOCKED: _login_locked,
    AlertKind.DELIVERY_FAILED: _delivery_failed,
    AlertKind.UNROUTED: _unrouted,
    AlertKind.WRONG_FILE: _wrong_file,
    AlertKind.SLACK_DISCONNECTED: _slack_disconnected,
    AlertKind.CLOCK_AHEAD: _clock_ahead,
}
RESOLVED: dict[str, str] = {
    AlertKind.STALE: "Resolved: the Web Connector of {company} is updating again.",
    AlertKind.QUICKBOOKS_ERROR: "Resolved: {company}'s last update went through.",
    AlertKind.LOGIN_LOCKED: "Resolved: the Web Connector login of {company} is unlocked.",
    AlertKind.DELIVERY_FAILED: "Resolved: no message of {company} is waiting on a Slack error.",
    AlertKind.UNROUTED: "Resolved: every change of {company} has a channel.",
    AlertKind.WRONG_FILE: "Resolved: {company}'s own company file is being read again.",
    AlertKind.SLACK_DISCONNECTED: "Resolved: Slack is connected again.",
    AlertKind.CLOCK_AHEAD: "Resolved: {company}'s QuickBooks shows no change from the future.",
}


def alert_title(kind: str, company: str, detail: Detail | None = None) -> str:
    """One line naming the condition and the company file (App Home, fallback text)."""
    words = WORDS.get(kind)
    if words is None:
        return f"{company}: {kind.replace('_', ' ')}"
    return words(company, detail or {})[0]


def alert_message(p: Mapping[str, Any], *, state: str | None = None) -> dict[str, Any]:
    """A health alert's Slack message: opened, a daily reminder, or the resolved reply.

    state "Resolved" shows the opening message as resolved (its thread parent, updated).
    """
    kind = str(p.get("kind") or "")
    company = str(p.get("company") or "a company file")
    detail: Detail = p.get("detail") or {}
    if p.get("phase") == AlertPhase.RESOLVED:
        text = RESOLVED.get(kind, "Resolved: {company}.").format(company=company)
        return {"text": clip(escape(text), MAX_TEXT), "blocks": [section(escape(text))]}
    title, body = WORDS.get(kind, _wrong_file)(company, detail)
    if p.get("phase") == AlertPhase.REMINDER:
        opened = _when(p.get("opened_at"))
        title = f"Still: {title}"
        body = f"_Reminder: this started {local_time(opened) if opened else 'earlier'}._\n{body}"
    if state:
        title = f"{state}: {title}"
    blocks: list[dict[str, Any]] = [header(title), section(body)]
    buttons = [] if state else fix_buttons(kind, p, detail)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": clip(escape(title), MAX_TEXT), "blocks": blocks}


def fix_buttons(kind: str, p: Mapping[str, Any], detail: Detail) -> list[dict[str, Any]]:
    """The buttons that fix a condition (their listeners check the clicker is a manager)."""
    conn = str(p.get("connection_id") or "")
    company = str(p.get("company") or "this company")
    if not conn:
        return []
    if kind == AlertKind.LOGIN_LOCKED:
        return [reset_password_button(conn)]
    if kind == AlertKind.DELIVERY_FAILED:
        return [
            _button("replay_failed", "Replay failed", conn),
            _button("edit_routes", "Edit routes"),
        ]
    if kind == AlertKind.UNROUTED:
        return [_button("edit_routes", "Edit routes")]
    if kind == AlertKind.WRONG_FILE:
        return [
            rebind_button(
                int(conn),
                company=company,
                was=str(detail.get("bound_company") or company),
                open_company=str(detail.get("open_company") or "another company file"),
                open_path=detail.get("open_path"),
            )
        ]
    return []


def _button(action_id: str, text: str, value: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
    }
    if value is not None:
        button["value"] = value
    return button


def reset_password_button(connection_id: str) -> dict[str, Any]:
    """Reset QBWC password, after a confirmation (the new one is shown once, in a modal)."""
    button = _button("reset_password", "Reset QBWC password", connection_id)
    button["confirm"] = {
        "title": {"type": "plain_text", "text": "New password?"},
        "text": {"type": "plain_text", "text": "The Web Connector will need the new password."},
        "confirm": {"type": "plain_text", "text": "Reset"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    return button


def rebind_button(
    connection_id: int, *, company: str, was: str, open_company: str, open_path: str | None
) -> dict[str, Any]:
    """ "This is the right file now": a manager re-binds a connection, after a confirmation."""
    where = f" ({open_path})" if open_path else ""
    confirm = (
        f"From now on the Web Connector entry of {company} reads {open_company}{where} "
        f"instead of {was}. Choose this only if that file really holds {company}'s books."
    )
    button = _button("rebind_company", "This is the right file now", str(connection_id))
    button["confirm"] = {
        "title": {"type": "plain_text", "text": "Use this company file?"},
        "text": {"type": "plain_text", "text": clip(confirm, 300)},
        "confirm": {"type": "plain_text", "text": "Use it"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    return button
