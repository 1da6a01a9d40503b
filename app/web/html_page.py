"""The HTML shell of qbslack's pages: one inline style sheet, no external assets.

Pages are built with markupsafe: Markup(...).format() escapes every argument that is not
itself Markup, so text from settings, the manifest or QuickBooks can never become markup.
"""

from __future__ import annotations

from flask import Response
from markupsafe import Markup

STYLE = Markup("""
:root { --aubergine: #3f0e40; --green: #007a5a; --ink: #1d1c1d; --grey: #616061;
  --line: #dddddd; --link: #1264a3; --paper: #ffffff; --soft: #f8f8f8; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: var(--paper);
  font: 15px/1.46668 "Slack-Lato", Lato, "Helvetica Neue", Helvetica, Arial, sans-serif; }
a { color: var(--link); }
code { font: 12px/1.5 Monaco, Menlo, Consolas, "Courier New", monospace; color: #e01e5a;
  background: rgba(29, 28, 29, 0.04); border: 1px solid rgba(29, 28, 29, 0.13);
  border-radius: 3px; padding: 1px 3px; }
pre { font: 13px/1.5 Monaco, Menlo, Consolas, "Courier New", monospace;
  background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 8px 12px;
  white-space: pre-wrap; }
.topbar { background: var(--aubergine); color: #fff; padding: 14px 28px; display: flex;
  align-items: center; gap: 24px; }
.topbar .brand { font-weight: 900; font-size: 20px; color: #fff; text-decoration: none; }
.topbar nav a { color: #e8d9e8; margin-right: 16px; text-decoration: none; }
main.page { max-width: 860px; margin: 0 auto; padding: 24px 28px 48px; }
main.page h1 { font-size: 32px; line-height: 1.2; margin: 16px 0 8px; }
main.page h2 { font-size: 20px; margin: 32px 0 8px; }
.lead { font-size: 18px; color: var(--grey); }
.add-to-slack { display: inline-block; background: var(--aubergine); color: #fff;
  font-weight: 700; font-size: 16px; padding: 12px 22px; border-radius: 6px;
  text-decoration: none; margin: 16px 0; }
.add-to-slack .mark { display: inline-block; width: 14px; height: 14px; margin-right: 10px;
  vertical-align: -1px; border-radius: 3px;
  background: linear-gradient(90deg, #36c5f0 0 50%, #2eb67d 50%) top / 100% 50% no-repeat,
    linear-gradient(90deg, #ecb22e 0 50%, #e01e5a 50%) bottom / 100% 50% no-repeat; }
table.scopes { border-collapse: collapse; width: 100%; }
table.scopes td { border-top: 1px solid var(--line); padding: 8px 6px; vertical-align: top; }
table.scopes td:first-child { white-space: nowrap; width: 1%; }
footer.page { border-top: 1px solid var(--line); color: var(--grey); font-size: 13px;
  padding: 16px 28px; text-align: center; }
/* /dev/preview: a Slack-like client, read-only */
.client { display: flex; min-height: 100vh; }
.sidebar { background: var(--aubergine); color: #cfc3cf; width: 260px; flex: none;
  padding: 12px 0; }
.sidebar h2 { color: #fff; font-size: 18px; margin: 4px 16px 12px; }
.sidebar .team { color: #fff; font-weight: 700; padding: 6px 16px 2px; display: block;
  text-decoration: none; }
.sidebar a.channel { color: #cfc3cf; display: block; padding: 2px 16px 2px 28px;
  text-decoration: none; }
.sidebar .current { background: #1164a3; color: #fff !important; }
.sidebar .hint { font-size: 12px; padding: 16px; }
.pane { flex: 1; min-width: 0; }
.pane-head { border-bottom: 1px solid var(--line); padding: 12px 20px; }
.pane-head h1 { font-size: 18px; margin: 0; }
.pane-head .sub { color: var(--grey); font-size: 13px; }
.messages { padding: 8px 0 40px; }
.empty { padding: 20px; color: var(--grey); }
.msg { display: flex; gap: 8px; padding: 8px 20px; }
.msg:hover { background: var(--soft); }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #2c5f2d; color: #fff;
  font-weight: 900; font-size: 14px; display: flex; align-items: center;
  justify-content: center; flex: none; }
.msg-main { min-width: 0; flex: 1; }
.msg-meta { font-size: 13px; color: var(--grey); }
.msg-meta .who { font-weight: 900; font-size: 15px; color: var(--ink); }
.msg-meta .app { background: rgba(29, 28, 29, 0.13); color: var(--grey); font-size: 10px;
  font-weight: 700; border-radius: 2px; padding: 1px 3px; margin: 0 4px; }
.status { font-size: 11px; border-radius: 8px; padding: 0 6px; margin-left: 6px;
  border: 1px solid var(--line); background: var(--soft); }
.status.posted { color: var(--green); border-color: #b7dccd; }
.status.failed, .status.unrouted { color: #e01e5a; border-color: #f1b2c6; }
.error-note { font-size: 12px; color: #e01e5a; }
.thread { margin: 4px 0 4px 64px; border-left: 3px solid var(--line); }
.thread .msg { padding-left: 14px; }
.thread-note { font-size: 12px; color: var(--link); margin: 2px 0; }
.blk { margin: 4px 0; }
.blk.header { font-size: 18px; font-weight: 900; line-height: 1.33; margin-top: 2px; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin-top: 4px; }
.section { display: flex; gap: 12px; }
.section-body { flex: 1; min-width: 0; overflow-wrap: anywhere; }
.context { font-size: 12px; color: var(--grey); }
.divider { border: 0; border-top: 1px solid var(--line); }
.mention { background: rgba(29, 155, 209, 0.1); color: var(--link); border-radius: 3px;
  padding: 0 2px; }
.btn, .select { font: inherit; font-size: 13px; font-weight: 700; border-radius: 4px;
  padding: 3px 12px; margin: 2px 8px 2px 0; border: 1px solid rgba(29, 28, 29, 0.3);
  background: #fff; color: var(--ink); opacity: 0.75; cursor: not-allowed; }
.btn.primary { background: var(--green); border-color: var(--green); color: #fff; }
.btn.danger { color: #e01e5a; border-color: #e01e5a; }
.select { display: inline-block; font-weight: 400; }
.img-alt, .unknown { color: var(--grey); font-style: italic; }
""")


def page(title: str, body: Markup, *, status: int = 200) -> Response:
    """A complete HTML document: the title is escaped, the body is trusted Markup."""
    doc = Markup(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        "<title>{}</title><style>{}</style></head><body>{}</body></html>\n"
    ).format(title, STYLE, body)
    response = Response(str(doc), status=status, mimetype="text/html")
    # Nothing on these pages comes from elsewhere: say so to the browser too.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def site_page(title: str, body: Markup, *, status: int = 200) -> Response:
    """A public page (landing, privacy, support) with qbslack's top bar and footer."""
    chrome = Markup(
        '<header class="topbar"><a class="brand" href="/">qbslack</a><nav>'
        '<a href="/">Home</a><a href="/privacy">Privacy</a><a href="/support">Support</a>'
        '</nav></header><main class="page">{}</main><footer class="page">'
        'qbslack posts QuickBooks Desktop changes to Slack · <a href="/privacy">Privacy</a>'
        ' · <a href="/support">Support</a></footer>'
    ).format(body)
    return page(title, chrome, status=status)
