"""Clicks on the buttons of an ephemeral answer (a `/qb-replay` preview) and its replies."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_api import Call
from tests.support.slack import SlackHarness


def response(slack: SlackHarness, count: int) -> dict[str, Any]:
    """The count-th message sent to a response_url (text, blocks, replace_original...)."""
    calls: list[Call] = slack.fake.wait_for("response.hook", count)
    return dict(calls[count - 1].params)


def buttons(message: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A message's buttons by action_id (in actions blocks and as accessories)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for block in message.get("blocks") or []:
        elements = list(block.get("elements") or []) if block["type"] == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            found.setdefault(element["action_id"], []).append(element)
    return found


def ephemeral_click(
    slack: SlackHarness,
    action_id: str,
    value: str,
    *,
    user: str = "UADMIN",
    team: str = "T1",
) -> None:
    """A button clicked in an ephemeral message (only its user sees it)."""
    resp = slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": team, "domain": "acme"},
            "user": {"id": user, "team_id": team},
            "trigger_id": "9.9.9",
            "api_app_id": "A0QBSLACK",
            "container": {
                "type": "message",
                "message_ts": "1700000000.000200",
                "channel_id": "C1",
                "is_ephemeral": True,
            },
            "channel": {"id": "C1", "name": "general"},
            "response_url": slack.fake.url + "response.hook",
            "actions": [
                {"action_id": action_id, "block_id": "b", "type": "button", "value": value}
            ],
        }
    )
    assert resp.status_code == 200
