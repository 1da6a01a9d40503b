"""The message snapshots, rendered as Slack would show them and looked at in a real browser.

Every Block Kit snapshot of tests/jobs/snapshots goes through the preview page's renderer
into one page, which headless chromium draws. Set SNAPSHOT_IMAGES=DIR to keep the picture
for a person to review (`SNAPSHOT_IMAGES=/tmp/shots make test`, then open the PNG).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from markupsafe import Markup

from app.web.blockkit import message_html, mrkdwn_text
from app.web.html_page import page
from tests.support.browser import Browser, read_png
from tests.support.browser import browser as browser  # the fixture
from tests.support.paths import REPO

SNAPSHOTS = REPO / "tests" / "jobs" / "snapshots"


def _review_page(cases: list[dict[str, object]]) -> str:
    # The preview page's own message markup: the same look as /dev/preview.
    parts = [
        Markup(
            '<div class="msg"><div class="avatar">qb</div><div class="msg-main">'
            '<div class="msg-meta"><span class="who">qbslack</span><span class="app">APP</span>'
            "{} · {}</div>{}</div></div>"
        ).format(
            case["case"],
            case["workspace"],
            message_html(case["message"]),  # type: ignore[arg-type]
        )
        for case in cases
    ]
    return str(page("Message snapshots", Markup("").join(parts)).get_data(as_text=True))


def test_every_snapshot_is_drawn_readably(browser: Browser, tmp_path: Path) -> None:
    cases = [json.loads(p.read_text()) for p in sorted(SNAPSHOTS.glob("*.json"))]
    assert len(cases) >= 20
    html_file = tmp_path / "snapshots.html"
    html_file.write_text(_review_page(cases))
    dom = browser.dom(html_file.as_uri())
    for case in cases:
        message = case["message"]
        header = next(
            (b["text"]["text"] for b in message.get("blocks", []) if b.get("type") == "header"),
            None,
        )
        assert mrkdwn_text(header or message["text"]).split(" · ")[0] in dom, case["case"]
    assert "Acme Supply Co" in dom and "1,250.00" in dom
    shot = browser.screenshot(html_file.as_uri(), tmp_path / "snapshots.png", height=3000)
    png = read_png(shot, max_rows=600)
    assert png.not_white() > 5_000  # text was drawn, not an empty page
    keep = os.environ.get("SNAPSHOT_IMAGES")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "snapshots.png")
