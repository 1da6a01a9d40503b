"""GET /dev/preview: the last events rendered as Slack would show them (development only).

A newcomer runs `make run`, `qbslack connect …`, `qbslack simulate …` and opens this page to
see the messages without a Slack workspace. It exists only with development settings (the
embedded SQLite default without an https PUBLIC_URL): elsewhere it is a 404, as it shows
every workspace's data to whoever asks. Query: `team`, `company`, `last` (1-200, default
20). Plain HTML with inline CSS: no JavaScript, nothing fetched from elsewhere.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, request
from markupsafe import Markup

from app.core.runtime import Runtime
from app.core.settings import Settings
from app.web.blockkit import message_html
from app.web.html_page import page
from app.web.preview_feed import (
    DEFAULT_LAST,
    PreviewMessage,
    Workspace,
    clamp_last,
    recent_messages,
    workspaces,
)
from tenants.service import NotFound

PATH = "/dev/preview"
# What each delivery status means to someone looking at the preview.
STATUS_NOTES = {
    "pending": "pending: not posted yet",
    "posted": "posted",
    "failed": "failed: Slack refused it",
    "unrouted": "unrouted: no channel for it",
    "paused": "paused: Slack disconnected",
    "skipped": "skipped: opt-in type without a route",
    "baseline": "first sync: recorded, not posted",
}


def is_development(settings: Settings) -> bool:
    """Development settings: the embedded SQLite default, not a public https deployment."""
    return settings.is_sqlite and not settings.public_url.startswith("https:")


def preview_url(
    team: str | None = None, company: str | None = None, last: int | None = None
) -> str:
    """This page's URL with its query."""
    query = {
        k: str(v)
        for k, v in (("team", team), ("company", company), ("last", last))
        if v is not None and v != DEFAULT_LAST
    }
    return PATH + ("?" + urlencode(query) if query else "")


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _message(m: PreviewMessage, *, several_companies: bool) -> Markup:
    meta = [Markup("{}").format(_when(m.created_at))]
    if m.channel_id:
        meta.append(Markup("#{}").format(m.channel_id))
    if several_companies:
        meta.append(Markup("{}").format(m.company))
    status = Markup('<span class="status {0}" title="delivery status">{1}</span>').format(
        m.status, STATUS_NOTES.get(m.status, m.status)
    )
    extra = Markup("")
    if m.reply_to_earlier:
        extra += Markup(
            '<div class="thread-note">\u21b3 a reply in the thread of an earlier message</div>'
        )
    if m.last_error and m.status != "posted":
        extra += Markup('<div class="error-note">{}</div>').format(m.last_error[:300])
    html = Markup(
        '<div class="msg" id="event-{id}"><div class="avatar">qb</div><div class="msg-main">'
        '<div class="msg-meta"><span class="who">qbslack</span><span class="app">APP</span>'
        "{meta}{status}</div>{extra}{body}</div></div>"
    ).format(
        id=m.event_id,
        meta=Markup(" · ").join(meta),
        status=status,
        extra=extra,
        body=message_html(m.body),
    )
    if m.replies:
        count = len(m.replies)
        replies = Markup("").join(
            _message(r, several_companies=several_companies) for r in m.replies
        )
        html += Markup(
            '<div class="thread"><div class="thread-note">&nbsp;{n} {word}</div>{replies}</div>'
        ).format(n=count, word="reply" if count == 1 else "replies", replies=replies)
    return html


def _sidebar(spaces: list[Workspace], team: str | None, company: str | None) -> Markup:
    items = []
    for space in spaces:
        current = space.team_id == team and company is None
        items.append(
            Markup('<a class="team{cls}" href="{href}">{name}</a>').format(
                cls=" current" if current else "",
                href=preview_url(space.team_id),
                name=f"{space.team_name or space.team_id} ({space.team_id})",
            )
        )
        for name in space.companies:
            current = space.team_id == team and (company or "").casefold() == name.casefold()
            items.append(
                Markup('<a class="channel{cls}" href="{href}"># {name}</a>').format(
                    cls=" current" if current else "",
                    href=preview_url(space.team_id, name),
                    name=name,
                )
            )
    return Markup(
        '<nav class="sidebar"><h2>qbslack preview</h2>{items}'
        '<p class="hint">Development only: each event as Slack would show it. Nothing here '
        "is sent to Slack.</p></nav>"
    ).format(items=Markup("").join(items))


def _how_to_start(settings: Settings) -> Markup:
    return Markup(
        '<div class="empty"><p>No workspace yet. Make one and play a Web Connector session '
        "against this server with the built-in fake QuickBooks company:</p>"
        '<pre>.venv/bin/qbslack connect T0DEMO "Demo Books" --create-tenant\n'
        ".venv/bin/qbslack simulate --url {url}/qbwc --username USERNAME --password PASSWORD"
        "</pre><p>(USERNAME and PASSWORD are the ones <code>connect</code> printed.) Then "
        "reload this page.</p></div>"
    ).format(url=settings.public_url)


def _pane(
    title: str,
    team: str | None,
    company: str | None,
    last: int,
    messages: list[PreviewMessage],
    spaces: list[Workspace],
) -> Markup:
    space = next((s for s in spaces if s.team_id == team), None)
    several = space is not None and len(space.companies) > 1 and company is None
    choices = Markup(" ").join(
        Markup('<a href="{}">{}</a>').format(preview_url(team, company, n), n)
        for n in (20, 50, 100, 200)
        if n != last
    )
    head = Markup(
        '<header class="pane-head"><h1>{title}</h1><div class="sub">The last {last} events, '
        "newest last, whether posted or not (their status is shown small). Show the last "
        "{choices}.</div></header>"
    ).format(title=title, last=last, choices=choices)
    if messages:
        body = Markup("").join(_message(m, several_companies=several) for m in messages)
    else:
        body = Markup(
            '<div class="empty">No events yet: play a Web Connector session with '
            "<code>qbslack simulate</code>, then reload this page.</div>"
        )
    return head + Markup('<div class="messages">{}</div>').format(body)


def register(app: Flask, runtime: Runtime) -> None:
    """Serve GET /dev/preview, with development settings only."""
    settings = runtime.settings
    if not is_development(settings):
        return
    bp = Blueprint("dev_preview", __name__)

    @bp.get(PATH)
    def preview() -> Response:
        team = request.args.get("team", "").strip() or None
        company = request.args.get("company", "").strip() or None
        raw_last = request.args.get("last", "").strip()
        last = clamp_last(int(raw_last) if raw_last.isdigit() and len(raw_last) < 6 else None)
        status = 200
        with runtime.transaction() as db:
            spaces = workspaces(db_session=db)
            if team is None and spaces:
                team = spaces[0].team_id
            if team is None:
                pane = _how_to_start(settings)
            else:
                try:
                    messages = recent_messages(team, company, last, db_session=db)
                except NotFound as exc:
                    status = 404
                    pane = Markup('<div class="empty">{}</div>').format(str(exc))
                else:
                    space = next((s for s in spaces if s.team_id == team), None)
                    name = (space.team_name if space else "") or team
                    title = f"{name} \u00b7 {company or 'all company files'}"
                    pane = _pane(title, team, company, last, messages, spaces)
            body = Markup('<div class="client">{}<div class="pane">{}</div></div>').format(
                _sidebar(spaces, team, company), pane
            )
        return page("qbslack preview", body, status=status)

    app.register_blueprint(bp)
