"""The public pages: the landing page with "Add to Slack", the privacy policy and support.

Slack's app directory asks for all three. The scopes and the reasons for them are read
from app/manifest.yml, the source of truth for what the Slack app asks; the operator's
contact comes from SUPPORT_EMAIL. /support is also the AppSupport page named in every .qwc
(the Web Connector checks that it answers 200).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

from flask import Blueprint, Flask, Response
from markupsafe import Markup

from app.core.runtime import Runtime
from app.web.html_page import site_page

log = logging.getLogger(__name__)

MANIFEST = "manifest.yml"
INSTALL_PATH = "/slack/install"
OPERATOR = "the operator of this qbslack deployment"


@dataclass(frozen=True)
class Scope:
    """A bot scope the Slack app asks for, and why (its comment in the manifest)."""

    name: str
    why: str


def manifest_bot_scopes(text: str) -> list[Scope]:
    """oauth_config.scopes.bot of a manifest, each with its trailing comment.

    A reader for the manifest's plain YAML (block mappings and lists, `# comments`), so no
    YAML library is needed; PyYAML would drop the comments that say why anyway.
    """
    path: list[tuple[int, str]] = []
    found: list[Scope] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        body, _, comment = stripped.partition(" #")
        if body.startswith("- "):
            if [key for _, key in path] == ["oauth_config", "scopes", "bot"]:
                name = body[2:].strip().strip("'\"")
                if name:
                    found.append(Scope(name, comment.strip()))
            continue
        while path and path[-1][0] >= indent:
            path.pop()
        path.append((indent, body.split(":", 1)[0].strip()))
    return found


def read_manifest_scopes() -> list[Scope]:
    """The bot scopes of the packaged app/manifest.yml ([] when it cannot be read)."""
    try:
        text = resources.files("app").joinpath(MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read app/%s: %s", MANIFEST, exc)
        return []
    return manifest_bot_scopes(text)


def contact(email: str | None) -> Markup:
    """The operator's contact: a mailto link, or words naming the operator."""
    if email:
        return Markup('<a href="mailto:{0}">{0}</a>').format(email)
    return Markup("{}").format(OPERATOR)


def landing_body(scopes: list[Scope], run_every_minutes: int) -> Markup:
    """The landing page's content."""
    if scopes:
        rows = Markup("").join(
            Markup("<tr><td><code>{}</code></td><td>{}</td></tr>").format(
                s.name, s.why[:1].upper() + s.why[1:] if s.why else ""
            )
            for s in scopes
        )
        scope_part = Markup('<table class="scopes">{}</table>').format(rows)
    else:
        scope_part = Markup("<p>The Slack app's manifest (app/manifest.yml) lists them.</p>")
    return Markup(
        "<h1>QuickBooks Desktop changes, in your Slack channels</h1>"
        '<p class="lead">qbslack posts new and changed vendors, bills, purchase orders, bill '
        "payments, received payments and invoices from QuickBooks Desktop to the Slack "
        "channels you choose, as messages a bookkeeper reads at a glance.</p>"
        '<p><a class="add-to-slack" href="{install}"><span class="mark"></span>'
        "Add to Slack</a></p>"
        "<h2>What it does</h2><ul>"
        "<li>Each change in QuickBooks becomes one Slack message: what happened, the vendor "
        "or customer, the reference number and the amount, with the lines that matter.</li>"
        "<li>Later changes to the same bill or invoice (an edit, a payment, a deletion) are "
        "replies in its thread, and its first message shows whether it is paid.</li>"
        "<li>Routes decide which channel gets which kind of change "
        "(<code>/qb-routes</code>); <code>/qb-replay</code> posts again what failed.</li>"
        "<li>Accounting firms connect every client's company file to one workspace and route "
        "each client to its own channels (client A's bills to #client-a).</li>"
        "<li>Data flows one way: nothing is ever written back to QuickBooks.</li></ul>"
        "<h2>How it connects</h2>"
        "<p>QuickBooks Desktop has no webhooks, so qbslack works with the QuickBooks Web "
        "Connector that Intuit ships with QuickBooks. After installing the app, download your "
        "company file's <code>.qwc</code> file from qbslack's Home tab in Slack, open it on "
        "the PC that has QuickBooks, and type the password Slack showed you once. The Web "
        "Connector then asks qbslack every {every} (over HTTPS) what changed, and "
        "qbslack reads only that, with read-only access and no personal data.</p>"
        "<h2>What it asks Slack for, and why</h2>"
        "<p>These are the bot permissions (scopes) the app requests when you add it:</p>"
        "{scopes}"
        "<p>It does not read your channels' messages.</p>"
        '<p><a href="/privacy">Privacy policy</a> · <a href="/support">Support</a></p>'
    ).format(
        install=INSTALL_PATH,
        every="minute" if run_every_minutes == 1 else f"{run_every_minutes} minutes",
        scopes=scope_part,
    )


def privacy_body(email: str | None) -> Markup:
    """The privacy policy's content."""
    return Markup(
        "<h1>Privacy policy</h1>"
        "<p>qbslack posts changes from QuickBooks Desktop company files to Slack channels. "
        "This page says what it keeps to do that, for how long, and how to have it "
        "deleted.</p>"
        "<h2>What qbslack stores</h2><ul>"
        "<li><b>Your Slack workspace</b>: its id and name, the id of the person who installed "
        "the app, and the app's bot token, encrypted (Fernet) before it is stored.</li>"
        "<li><b>Your company files</b>: the names you gave them, the company name, path and "
        "file id QuickBooks reports, the Web Connector user name and the password's salted "
        "hash (scrypt; the password itself is shown once and never stored), and the "
        "connection's status and last error.</li>"
        "<li><b>Summaries of QuickBooks objects</b> in the events it posts: the object's type "
        "and QuickBooks id, vendor or customer name, reference number, amounts, dates, terms, "
        "memo, a few line items and the transactions a payment applies to; vendor contact "
        "fields (email, phone) as QuickBooks lists them; chart-of-accounts entries (name, "
        "type, number). No employee personal data beyond a name and job title.</li>"
        "<li><b>Slack delivery records</b>: which channel each event went to, the message "
        "timestamp, and delivery errors; the channels your routes name.</li></ul>"
        "<p>qbslack does not read the messages of your Slack channels, and writes nothing to "
        "QuickBooks. Its logs leave out tokens and passwords. A Web Connector session's state "
        "is kept for at most 30 minutes after its last call.</p>"
        "<h2>Retention and deletion</h2>"
        "<p>Events and the rest are kept while the app is installed, so that edits and "
        "payments thread under their first message and <code>/qb-replay</code> can post "
        "again. Uninstalling the app from Slack deletes its tokens at once; the rest is kept "
        "until you ask for its deletion (so that reinstalling resumes where it stopped). On "
        "request the operator deletes every record of your workspace "
        "(<code>qbslack purge</code>): workspace, tokens (revoked at Slack first), company "
        "files, credentials, routes and events.</p>"
        "<h2>Contact</h2>"
        "<p>To ask what is stored about your workspace, or for its deletion, contact "
        "{contact}.</p>"
    ).format(contact=contact(email))


def support_body(email: str | None) -> Markup:
    """The support page's content."""
    return Markup(
        "<h1>qbslack support</h1>"
        "<p>Contact: {contact}.</p>"
        "<p>In Slack, open qbslack's <b>Home</b> tab first: it shows every company file's "
        "status (OK, stale, error, wrong file, paused), its last poll and last error, and "
        "has buttons to download the <code>.qwc</code> file again and to reset the Web "
        "Connector password.</p>"
        "<h2>QuickBooks Web Connector: the usual fixes</h2><ul>"
        "<li><b>Authentication failed</b>: the password in the Web Connector is not the one "
        "Slack showed. Reset it from the Home tab and type the new one in the Web Connector "
        "(click the password field of qbslack's row).</li>"
        "<li><b>QuickBooks is not running / cannot open the company file</b>: open the "
        "company file in QuickBooks as the Admin user, and under Edit → Preferences → "
        'Integrated Applications allow qbslack with "allow access even if QuickBooks is '
        'not running".</li>'
        "<li><b>Wrong company file</b>: the Web Connector had another client's file open. "
        'Open the right one, or, if the file was restored or re-created, click "This is the '
        'right file now" in the alert or the Home tab.</li>'
        "<li><b>Nothing is posted</b>: check the routes with <code>/qb-routes list</code> "
        "(each kind of change needs a channel, or a default one), invite qbslack to private "
        "channels, and post what failed again with <code>/qb-replay failed</code>.</li>"
        "<li><b>Certificate or connection errors</b>: the Web Connector only talks to an "
        "https address with a valid certificate; check that the PC can open this site.</li>"
        "<li>The Web Connector's own log is "
        "<code>C:\\ProgramData\\Intuit\\QBWebConnector\\log\\QWCLog.txt</code>; its "
        "<b>View Log</b> button opens it.</li></ul>"
    ).format(contact=contact(email))


def register(app: Flask, runtime: Runtime) -> None:
    """Serve GET /, /privacy and /support."""
    settings = runtime.settings
    scopes = read_manifest_scopes()
    bp = Blueprint("pages", __name__)

    @bp.get("/")
    def landing() -> Response:
        return site_page(
            "qbslack: QuickBooks Desktop to Slack",
            landing_body(scopes, settings.qbwc_run_every_minutes),
        )

    @bp.get("/privacy")
    def privacy() -> Response:
        return site_page("qbslack privacy policy", privacy_body(settings.support_email))

    @bp.get("/support")
    def support() -> Response:
        return site_page("qbslack support", support_body(settings.support_email))

    app.register_blueprint(bp)
