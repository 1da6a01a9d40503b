"""Hostile input to /slack/events: nothing changes, and the answer is 4xx, never a trace."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

from tenants.models import Route, SlackEventReceipt
from tests.support.slack import SlackHarness


def counts(h: SlackHarness) -> tuple[int | None, int | None]:
    with h.runtime.transaction() as db:
        return (
            db.scalar(select(func.count()).select_from(Route)),
            db.scalar(select(func.count()).select_from(SlackEventReceipt)),
        )


def test_malformed_bodies_with_valid_signatures(slack):
    before = counts(slack)
    cases = [
        ("{not json", "application/json"),
        ("[1,2,3]", "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ("payload=" + json.dumps({"type": "view_submission"}), "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
    ]
    for body, ctype in cases:
        resp = slack.post(body, content_type=ctype)
        text = resp.get_data(as_text=True)
        assert resp.status_code in (200, 400, 404), (body, resp.status_code, text)
        assert "Traceback" not in text
    assert counts(slack) == before


def test_unknown_team_changes_nothing(slack):
    resp = slack.command("/qb-routes", "set bill C0123456789", team="TUNKNOWN")
    assert resp.status_code in (200, 401)
    assert counts(slack)[0] == 0


def test_oversize_payload_is_413(slack):
    body = "payload=" + "a" * 1_100_000
    resp = slack.post(body, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 413


def test_oversize_body_without_content_length_is_413(slack):
    """A chunked upload has no Content-Length; the limit still holds."""
    limit = slack.runtime.settings.max_slack_body_bytes
    environ = EnvironBuilder(
        path="/slack/events",
        method="POST",
        input_stream=io.BytesIO(b"payload=" + b"a" * (limit + 100_000)),
        headers=Headers(
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Transfer-Encoding": "chunked",
                "X-Slack-Request-Timestamp": "1",
                "X-Slack-Signature": "v0=00",
            }
        ),
    ).get_environ()
    # What a server gives the app for a chunked request: no length, a terminated stream.
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    body, status, _ = run_wsgi_app(slack.app, environ, buffered=True)
    assert status.startswith("413"), (status, b"".join(body)[:200])
    assert counts(slack) == (0, 0)
