"""Bolt listeners: the slash commands here; App Home, modals and lifecycle in their modules."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from app.core.runtime import Runtime
from app.slack import commands
from app.slack.home import publish_home, register_home
from app.slack.lifecycle import register_lifecycle
from app.slack.modals import open_routes_modal, register_modals
from app.slack.permissions import REFUSAL, is_manager

log = logging.getLogger(__name__)


def register_listeners(app: App, runtime: Runtime) -> None:
    """Attach every listener to a Bolt app built for this runtime."""
    register_lifecycle(app, runtime)
    register_home(app, runtime)

    def refresh_home(client: WebClient, team_id: str, user_id: str) -> None:
        publish_home(runtime, client, team_id, user_id)

    register_modals(app, runtime, on_change=refresh_home)

    # Commands ack at once (Slack's 3-second deadline): users.info, the database and the
    # answer follow the ack, the answer through the command's response_url (ephemeral).
    @app.command("/qb-routes")
    def qb_routes(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        respond = _ephemeral(respond)
        words = (body.get("text") or "").split()
        team_id, user_id = body["team_id"], body["user_id"]
        if words and words[0].lower() == "list":
            respond(commands.routes_command(runtime, client, team_id, user_id, words))
        elif not is_manager(runtime, client, team_id, user_id):
            respond(REFUSAL)
        elif not words:
            open_routes_modal(runtime, client, team_id, user_id, body["trigger_id"])
        else:
            respond(commands.routes_command(runtime, client, team_id, user_id, words))

    @app.command("/qb-replay")
    def qb_replay(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        respond = _ephemeral(respond)
        words = (body.get("text") or "").split()
        if not words:
            respond(commands.REPLAY_USAGE)
        elif not is_manager(runtime, client, body["team_id"], body["user_id"]):
            respond(REFUSAL)
        else:
            respond(commands.replay_command(runtime, body["team_id"], words))


def _ephemeral(respond: Respond) -> Any:
    """Answers only the person who typed the command sees."""
    return lambda text: respond(text=text, response_type="ephemeral")
