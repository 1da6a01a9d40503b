"""Fixtures for the Slack app: the app on the fake Slack, signed requests, an installer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select
from werkzeug.test import TestResponse

from app import create_app
from app.core.runtime import Runtime
from tenants.models import Connection, Tenant
from tests.conftest import SIGNING_SECRET, make_settings
from tests.fakes import FakeSlack


@dataclass
class SlackHarness:
    """The app (committing for real) wired to the fake Slack."""

    app: Flask
    client: FlaskClient
    runtime: Runtime
    fake: FakeSlack

    def post(
        self,
        body: str | bytes,
        *,
        content_type: str,
        ts: int | None = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> TestResponse:
        """POST /slack/events with Slack's signature headers (the real HMAC)."""
        ts = int(time.time()) if ts is None else ts
        hdrs = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts)}
        if sign:
            signature = SignatureVerifier(SIGNING_SECRET).generate_signature(
                timestamp=str(ts), body=body
            )
            assert signature is not None  # None only without a timestamp
            hdrs["X-Slack-Signature"] = signature
        hdrs.update(headers or {})
        return self.client.post("/slack/events", data=body, headers=hdrs)

    def command(
        self, command: str, text: str, *, user: str = "UADMIN", team: str = "T1"
    ) -> TestResponse:
        """A signed slash command."""
        body = urlencode(
            {
                "token": "legacy",
                "team_id": team,
                "team_domain": "acme",
                "channel_id": "C1",
                "channel_name": "general",
                "user_id": user,
                "user_name": "u",
                "command": command,
                "text": text,
                "response_url": self.fake.url + "response.hook",
                "trigger_id": "123.456.abc",
                "api_app_id": "A0QBSLACK",
            }
        )
        return self.post(body, content_type="application/x-www-form-urlencoded")

    def event(
        self,
        event: dict[str, Any],
        *,
        team: str = "T1",
        event_id: str = "Ev1",
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        """A signed Events API callback."""
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": team,
                "api_app_id": "A0QBSLACK",
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return self.post(body, content_type="application/json", headers=headers)

    def interaction(self, payload: dict[str, Any]) -> TestResponse:
        """A signed interactivity payload (block_actions, view_submission)."""
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, content_type="application/x-www-form-urlencoded")

    def click(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user: str = "UADMIN",
        team: str = "T1",
        trigger: str = "1.2.3",
    ) -> TestResponse:
        """A button click in App Home."""
        action: dict[str, Any] = {"action_id": action_id, "type": "button", "block_id": "b"}
        if value is not None:
            action["value"] = value
        return self.interaction(
            {
                "type": "block_actions",
                "team": {"id": team},
                "user": {"id": user},
                "trigger_id": trigger,
                "api_app_id": "A0QBSLACK",
                "container": {"type": "view"},
                "actions": [action],
            }
        )

    def submit(
        self,
        view: dict[str, Any],
        values: dict[str, Any],
        *,
        user: str = "UADMIN",
        team: str = "T1",
    ) -> TestResponse:
        """Submit a modal the app opened, with the user's input."""
        submitted = dict(view, id=view.get("id", "V1"), state={"values": values})
        return self.interaction(
            {
                "type": "view_submission",
                "team": {"id": team},
                "user": {"id": user},
                "api_app_id": "A0QBSLACK",
                "view": submitted,
            }
        )

    def responses(self, count: int = 1) -> list[str]:
        """The texts sent to commands' response_url so far, after `count` arrived."""
        return [c.params.get("text", "") for c in self.fake.wait_for("response.hook", count)]

    def install(self, team: str = "T1", code: str = "code-1", installer: str = "UINSTALLER") -> str:
        """The whole OAuth install over HTTP; returns the state used."""
        self.fake.add_oauth_code(
            code,
            team_id=team,
            team_name=f"Firm {team}",
            bot_token=f"xoxb-{team}",
            authed_user_id=installer,
        )
        resp = self.client.get("/slack/install")
        assert resp.status_code == 302, resp.get_data(as_text=True)
        state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
        done = self.client.get(f"/slack/oauth_redirect?code={code}&state={state}")
        assert done.status_code == 200, done.get_data(as_text=True)
        return state

    def tenant(self, team: str = "T1") -> Tenant | None:
        """The workspace's tenant row, detached."""
        with self.runtime.transaction() as db:
            return db.scalar(select(Tenant).where(Tenant.team_id == team))

    def connections(self, team: str = "T1") -> list[Connection]:
        """The workspace's connections, detached."""
        with self.runtime.transaction() as db:
            return list(
                db.scalars(
                    select(Connection)
                    .join(Tenant)
                    .where(Tenant.team_id == team)
                    .order_by(Connection.id)
                )
            )


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Wait until check() is truthy (a listener's commit, seen from the test) and return it."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, "condition not reached in time"
            return result
        time.sleep(0.02)


@pytest.fixture
def slack(committed_runtime: Runtime, fake_slack: FakeSlack) -> Iterator[SlackHarness]:
    """The app with Slack configured against the fake server."""
    rt = Runtime.from_settings(
        make_settings(slack_api_url=fake_slack.url),
        engine=committed_runtime.engine,
        redis=committed_runtime.redis,
    )
    app = create_app(rt)
    app.config["TESTING"] = True
    fake_slack.client_id, fake_slack.client_secret = "111.222", "client-secret-for-tests"
    yield SlackHarness(app, app.test_client(), rt, fake_slack)
    # Listeners still running (a Home refresh after an ack) finish before the fake stops.
    assert rt.listener_executor is not None
    rt.listener_executor.shutdown(wait=True)


@pytest.fixture
def installed(slack: SlackHarness) -> SlackHarness:
    """Workspace T1 installed by UINSTALLER, with an admin UADMIN and a member UMEMBER."""
    slack.install()
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    slack.fake.add_user("UMEMBER", team_id="T1")
    slack.fake.reset()  # the install's calls are the install tests' business
    return slack
