"""Fixtures for the Slack app: the app on the fake Slack, and signed requests."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from app import create_app
from app.runtime import Runtime
from tests.conftest import SIGNING_SECRET, make_settings


@dataclass
class SlackHarness:
    """The app (committing for real) wired to the fake Slack."""

    app: Any
    client: Any
    runtime: Runtime
    fake: Any

    def post(self, body: str, *, content_type: str, ts: int | None = None,
             headers: dict[str, str] | None = None, sign: bool = True) -> Any:
        """POST /slack/events with Slack's signature headers."""
        ts = int(time.time()) if ts is None else ts
        hdrs = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts)}
        if sign:
            hdrs["X-Slack-Signature"] = SignatureVerifier(SIGNING_SECRET).generate_signature(
                timestamp=str(ts), body=body)
        hdrs.update(headers or {})
        return self.client.post("/slack/events", data=body, headers=hdrs)

    def command(self, command: str, text: str, *, user: str = "UADMIN",
                team: str = "T1") -> Any:
        """A signed slash command."""
        body = urlencode({
            "token": "legacy", "team_id": team, "team_domain": "acme", "channel_id": "C1",
            "channel_name": "general", "user_id": user, "user_name": "u", "command": command,
            "text": text, "response_url": self.fake.url + "response.hook",
            "trigger_id": "123.456.abc", "api_app_id": "A0QBSLACK",
        })
        return self.post(body, content_type="application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any], *, team: str = "T1", event_id: str = "Ev1",
              headers: dict[str, str] | None = None) -> Any:
        """A signed Events API callback."""
        body = json.dumps({"token": "legacy", "team_id": team, "api_app_id": "A0QBSLACK",
                           "type": "event_callback", "event_id": event_id,
                           "event_time": int(time.time()), "event": event})
        return self.post(body, content_type="application/json", headers=headers)

    def interaction(self, payload: dict[str, Any]) -> Any:
        """A signed interactivity payload (block_actions, view_submission)."""
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, content_type="application/x-www-form-urlencoded")


@pytest.fixture
def slack(committed_runtime, fake_slack):  # type: ignore[no-untyped-def]
    """The app with Slack configured against the fake server."""
    rt = Runtime.from_settings(
        make_settings(slack_api_url=fake_slack.url), engine=committed_runtime.engine,
        redis=committed_runtime.redis,
    )
    app = create_app(rt)
    app.config["TESTING"] = True
    fake_slack.client_id, fake_slack.client_secret = "111.222", "client-secret-for-tests"
    yield SlackHarness(app, app.test_client(), rt, fake_slack)
