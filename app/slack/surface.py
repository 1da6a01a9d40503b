"""Where an answer to a click goes: a modal opened, or pushed onto the modal clicked in."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

# A button or option named a company file of another workspace (or none at all).
NOT_HERE = "That company file is not connected to this workspace."


def in_modal(body: dict[str, Any]) -> bool:
    """True when the click came from inside a modal (e.g. a company's detail modal)."""
    return (body.get("view") or {}).get("type") == "modal"


def show_modal(client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Open `view` for this click: on top of the modal it came from, or as a new modal.

    Slack keeps up to three modals stacked; a click in App Home or a message opens one.
    """
    if in_modal(body):
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)
