"""The landing page, /privacy and /support: content, escaping, and a real headless browser."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from markupsafe import escape

from app import create_app
from app.core.runtime import Runtime
from app.core.settings import ConfigError, Settings
from app.web.pages import OPERATOR, manifest_bot_scopes, read_manifest_scopes
from tests.conftest import make_settings
from tests.support.browser import Browser, read_png
from tests.support.browser import browser as browser  # the fixture
from tests.support.paths import REPO
from tests.support.soap import serving

AUBERGINE = (0x3F, 0x0E, 0x40)  # Slack's sidebar colour: the top bar and "Add to Slack"


def _client(runtime: Runtime, **overrides: object) -> FlaskClient:
    rt = Runtime.from_settings(
        make_settings(**overrides),
        engine=runtime.engine,
        session_factory=runtime.session_factory,
        redis=runtime.redis,
        jobs=runtime.jobs,
    )
    return create_app(rt).test_client()


def test_manifest_reader_finds_the_bot_scopes_and_why():
    text = (REPO / "app" / "manifest.yml").read_text()
    scopes = manifest_bot_scopes(text)
    names = [s.name for s in scopes]
    assert names == [
        "chat:write",
        "channels:join",
        "channels:read",
        "groups:read",
        "users:read",
        "commands",
    ]
    assert all(s.why for s in scopes)
    assert read_manifest_scopes() == scopes  # the packaged file is the repository's
    assert manifest_bot_scopes(
        "oauth_config:\n  scopes:\n    user:\n      - a\n    bot:\n      - 'b'   # why b\n"
        "settings:\n  bot:\n    - c\n"
    ) == [type(scopes[0])("b", "why b")]


def test_landing_page_says_what_it_does_and_asks(client):
    resp = client.get("/")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    page = resp.get_data(as_text=True)
    assert '<a class="add-to-slack" href="/slack/install">' in page and "Add to Slack" in page
    for scope in read_manifest_scopes():
        assert f"<code>{scope.name}</code>" in page
        assert escape(scope.why[1:]) in page
    for words in ("QuickBooks Desktop", "Web Connector", ".qwc", "every 5 minutes", "channels"):
        assert words in page
    assert 'href="/privacy"' in page and 'href="/support"' in page
    # Nothing is loaded from elsewhere, and the browser is told so.
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]


def test_privacy_and_support_name_the_operator_s_contact(runtime):
    client = _client(runtime, support_email="help@firm.example")
    privacy = client.get("/privacy").get_data(as_text=True)
    assert '<a href="mailto:help@firm.example">help@firm.example</a>' in privacy
    for words in ("encrypted", "hash", "qbslack purge", "Retention", "company file"):
        assert words in privacy
    support = client.get("/support")
    assert support.status_code == 200  # the .qwc's AppSupport page: QBWC checks for a 200
    text = support.get_data(as_text=True)
    assert 'href="mailto:help@firm.example"' in text and "Web Connector" in text


def test_without_support_email_the_operator_is_named_without_a_link(client):
    for path in ("/privacy", "/support"):
        page = client.get(path).get_data(as_text=True)
        assert OPERATOR in page and "mailto:" not in page


def test_the_contact_is_escaped(runtime):
    # from_env refuses such a value; the page escapes whatever Settings holds anyway.
    client = _client(runtime, support_email='x"><script>alert(1)</script>@y')
    for path in ("/privacy", "/support"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "&lt;script&gt;" in page


def test_support_email_setting():
    base = {"SECRET_KEY": "k", "TOKEN_ENCRYPTION_KEYS": make_settings().token_encryption_keys[0]}
    assert Settings.from_env(base).support_email is None
    got = Settings.from_env({**base, "SUPPORT_EMAIL": " help@firm.example "})
    assert got.support_email == "help@firm.example"
    for bad in ("nobody", "a@b@c", "a b@c", "<a>@b", "@b", "a@"):
        with pytest.raises(ConfigError, match="SUPPORT_EMAIL"):
            Settings.from_env({**base, "SUPPORT_EMAIL": bad})


def test_healthz_is_unchanged_and_preview_absent_in_production(client):
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/dev/preview").status_code == 404


def test_pages_in_a_real_browser(browser: Browser, runtime, tmp_path):
    rt = Runtime.from_settings(
        make_settings(support_email="help@firm.example"),
        engine=runtime.engine,
        session_factory=runtime.session_factory,
        redis=runtime.redis,
        jobs=runtime.jobs,
    )
    with serving(rt) as base:
        landing = browser.dom(base + "/")
        privacy = browser.dom(base + "/privacy")
        support = browser.dom(base + "/support")
        shot = browser.screenshot(base + "/", tmp_path / "landing.png")
    assert "Add to Slack" in landing and 'href="/slack/install"' in landing
    for scope in read_manifest_scopes():
        assert scope.name in landing
    assert "help@firm.example" in privacy and "qbslack purge" in privacy
    assert 'href="mailto:help@firm.example"' in support and "QWCLog.txt" in support
    png = read_png(shot, max_rows=400)
    assert png.width == 1280
    # The top bar and the "Add to Slack" button are drawn in their colour, and there is text.
    assert png.count(AUBERGINE) > 20_000
    assert png.not_white() > png.count(AUBERGINE)
