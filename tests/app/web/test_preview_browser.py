"""/dev/preview in a real headless chromium, after a simulated Web Connector session."""

from __future__ import annotations

from redis import Redis

from soap.simulator import QBWCSimulator, fixtures
from tests.support.browser import Browser, development_runtime, read_png
from tests.support.browser import browser as browser  # the fixture
from tests.support.soap import connect, serving

SIDEBAR = (0x3F, 0x0E, 0x40)  # Slack's aubergine
AVATAR = (0x2C, 0x5F, 0x2D)  # qbslack's app colour (the manifest's background_color)


def test_a_newcomer_sees_the_bill_in_the_preview(browser: Browser, tmp_path, redis_conn: Redis):
    """`make run`, `qbslack connect`, `qbslack simulate`, then open /dev/preview."""
    with development_runtime(tmp_path, redis_conn) as rt, serving(rt) as base:
        c = connect(rt, "T100", "Acme Books")
        report = QBWCSimulator(base + "/qbwc", c.username, c.password, fixtures.load()).run()
        assert report.ok
        dom = browser.dom(base + "/dev/preview?team=T100&last=50")
        shot = browser.screenshot(base + "/dev/preview?team=T100&last=50", tmp_path / "p.png")
    assert "Acme Supply Co" in dom and "1,250.00" in dom
    assert "New bill" in dom and "Bill paid" in dom and "pending: not posted yet" in dom
    assert "<script" not in dom
    assert shot.stat().st_size > 10_000
    png = read_png(shot, max_rows=300)
    assert (png.width, png.height) == (1280, 300)
    # The Slack-like sidebar, the app's avatars and the messages' text are drawn.
    assert png.count(SIDEBAR) > 50_000
    assert png.count(AVATAR) > 500
    assert png.not_white() > png.count(SIDEBAR) + png.count(AVATAR)
