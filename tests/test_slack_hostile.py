"""Hostile input to /slack/events: nothing changes, and the answer is 4xx, never a trace."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from tenants.models import Route, SlackEventReceipt


def counts(h):
    with h.runtime.transaction() as db:
        return (db.scalar(select(func.count()).select_from(Route)),
                db.scalar(select(func.count()).select_from(SlackEventReceipt)))


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
