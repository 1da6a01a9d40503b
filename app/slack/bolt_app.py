"""Building the Bolt app for one runtime (multi-workspace, OAuth, our stores)."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.runtime import Runtime
from app.slack.listeners import register_listeners
from app.slack.stores import DbInstallationStore, DbOAuthStateStore

log = logging.getLogger(__name__)

# What qbslack needs and no more: post (chat:write), join public channels it was routed
# to (channels:join), check channels named in /qb-routes (channels:read, groups:read),
# and read users' admin flags (users:read); slash commands need `commands`.
BOT_SCOPES = ["chat:write", "channels:join", "channels:read", "groups:read", "users:read",
              "commands"]

WELCOME = (
    "Thanks for installing *qbslack*! Next steps:\n"
    "1. Open qbslack's *Home* tab and click *Reset QBWC password* to reveal your "
    "QuickBooks Web Connector password (shown once) and *Download .qwc*.\n"
    "2. Open the .qwc file with QuickBooks Web Connector on the computer that runs "
    "QuickBooks, and enter the password.\n"
    "3. Choose channels with `/qb-routes` (or *Edit routes* in the Home tab).\n"
    "Keeping books for several clients? Use *Add a company file* for each one."
)


def build_bolt_app(runtime: Runtime) -> App:
    """A Bolt App whose every Web API call (OAuth included) goes through SLACK_API_URL."""
    settings = runtime.settings
    client = WebClient(base_url=settings.slack_api_url, timeout=10)
    installation_store = DbInstallationStore(runtime)

    def success(args: SuccessArgs) -> BoltResponse:
        inst = args.installation
        try:
            WebClient(token=inst.bot_token, base_url=settings.slack_api_url).chat_postMessage(
                channel=inst.user_id, text=WELCOME)
        except SlackApiError as exc:
            log.warning("could not DM the installer: %s", exc.response.get("error"))
        return args.default.success(args)

    def failure(args: FailureArgs) -> BoltResponse:
        log.warning("Slack install failed: %s", args.reason)
        return args.default.failure(args)

    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=BOT_SCOPES,
        installation_store=installation_store,
        state_store=DbOAuthStateStore(runtime),
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        redirect_uri=settings.public_url + "/slack/oauth_redirect",
        install_page_rendering_enabled=False,
        callback_options=CallbackOptions(success=success, failure=failure),
    )
    app = App(
        signing_secret=settings.slack_signing_secret,
        client=client,
        oauth_settings=oauth,
        installation_store=installation_store,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        logger=log,
    )
    register_listeners(app, runtime)
    return app
