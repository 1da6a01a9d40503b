"""The Slack app manifest declares what the code uses, and no more."""

from __future__ import annotations

from app.slack.bolt_app import BOT_SCOPES
from tests.support.paths import REPO

MANIFEST = REPO / "app" / "manifest.yml"


def declared_bot_scopes(text: str) -> set[str]:
    """The scopes listed under oauth_config.scopes.bot."""
    section = text.split("    bot:\n", 1)[1].split("\nsettings:", 1)[0]
    return {
        line.split("#")[0].strip()[2:].strip()
        for line in section.splitlines()
        if line.strip().startswith("- ")
    }


def test_manifest_matches_the_code():
    text = MANIFEST.read_text()
    assert declared_bot_scopes(text) == set(BOT_SCOPES)
    assert text.count("should_escape: true") == 2
    for needle in (
        "/qb-routes",
        "/qb-replay",
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
        "/slack/events",
        "/slack/oauth_redirect",
    ):
        assert needle in text
