"""Install over HTTP, signed requests, retries, uninstall and reinstall, against the fake Slack."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk.signature import Clock, SignatureVerifier
from sqlalchemy import func, select, text

from app.slack.bolt_app import BOT_SCOPES
from app.slack.state_store import DbOAuthStateStore
from jobs.enums import EventStatus
from jobs.models import Event
from soap.session import authenticate
from tenants.credentials import hash_password
from tenants.models import Connection, OAuthState, Route, SlackEventReceipt, Tenant, Watermark
from tenants.routes import set_route
from tests.support.slack import SlackHarness, eventually

# Slack's "Verifying requests from Slack" example, verbatim.
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121"
    ".803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class FixedClock(Clock):
    """The clock at the moment of Slack's example request."""

    def now(self) -> float:
        return float(DOC_TIMESTAMP)


def test_documented_signature_vector():
    verifier = SignatureVerifier(DOC_SECRET, clock=FixedClock())
    assert verifier.generate_signature(timestamp=DOC_TIMESTAMP, body=DOC_BODY) == DOC_SIGNATURE
    assert verifier.is_valid(DOC_BODY, DOC_TIMESTAMP, DOC_SIGNATURE)
    assert not verifier.is_valid(DOC_BODY + "x", DOC_TIMESTAMP, DOC_SIGNATURE)

    # Six minutes later the same request is stale.
    class Later(FixedClock):
        def now(self) -> float:
            return float(DOC_TIMESTAMP) + 360

    assert not SignatureVerifier(DOC_SECRET, clock=Later()).is_valid(
        DOC_BODY, DOC_TIMESTAMP, DOC_SIGNATURE
    )


def test_install_over_http_stores_encrypted_tokens_and_dms_installer(slack):
    resp = slack.client.get("/slack/install")
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    assert (location.netloc, location.path) == ("slack.com", "/oauth/v2/authorize")
    query = {k: v[0] for k, v in parse_qs(location.query, keep_blank_values=True).items()}
    assert query["redirect_uri"] == "https://qbslack.example.com/slack/oauth_redirect"
    assert query["client_id"] == "111.222" and query["user_scope"] == ""
    assert set(query["scope"].split(",")) == set(BOT_SCOPES)
    state = slack.install()
    t = slack.tenant()
    assert t.status == "active" and t.team_name == "Firm T1"
    with slack.runtime.transaction() as db:
        raw = db.execute(
            text("SELECT bot_token_encrypted, installer_user_id FROM installations")
        ).one()
        conns = db.scalars(select(Connection)).all()
        assert db.get(OAuthState, state) is None  # single use
    assert "xoxb-T1" not in raw[0] and slack.runtime.cipher.decrypt(raw[0]) == "xoxb-T1"
    assert raw[1] == "UINSTALLER"
    # The first company file, named after the workspace, with QBWC credentials.
    assert [c.company_name for c in conns] == ["Firm T1"]
    assert conns[0].qbwc_username and conns[0].password_hash.startswith("scrypt$")
    exchange = slack.fake.calls("oauth.v2.access")[0]
    assert exchange.ok and exchange.params["code"] == "code-1"
    dm = slack.fake.wait_for("chat.postMessage")[0]
    assert dm.params["channel"] == "UINSTALLER" and dm.token == "xoxb-T1"
    assert "Home" in dm.params["text"] and "/qb-routes" in dm.params["text"]
    assert "reset_password" in str(dm.params["blocks"])  # the button that reveals it
    assert conns[0].qbwc_username not in str(dm.params)
    assert "assword:" not in str(dm.params)  # no password ever goes into a message


def test_oauth_redirect_with_unknown_or_reused_state_is_refused(slack):
    slack.fake.add_oauth_code("code-x", team_id="T1", team_name="x", bot_token="xoxb-x")
    resp = slack.client.get("/slack/oauth_redirect?code=code-x&state=forged")
    assert resp.status_code >= 400
    assert slack.tenant() is None and not slack.fake.calls("oauth.v2.access")
    state = slack.install(code="code-1")
    slack.fake.add_oauth_code("code-2", team_id="T9", team_name="y", bot_token="xoxb-y")
    again = slack.client.get(f"/slack/oauth_redirect?code=code-2&state={state}")
    assert again.status_code >= 400 and slack.tenant("T9") is None


def test_expired_state_is_refused(slack):
    resp = slack.client.get("/slack/install")
    state = parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]
    with slack.runtime.transaction() as db:
        db.execute(text("UPDATE oauth_states SET expires_at = now() - interval '1 minute'"))
    slack.fake.add_oauth_code("code-1", team_id="T1", team_name="x", bot_token="xoxb-1")
    done = slack.client.get(f"/slack/oauth_redirect?code=code-1&state={state}")
    assert done.status_code >= 400 and slack.tenant() is None


def test_bad_missing_or_stale_signature_is_401_and_changes_nothing(installed):
    slack = installed
    body = (
        '{"type":"event_callback","team_id":"T1","event_id":"E1",'
        '"event":{"type":"app_uninstalled"}}'
    )
    assert slack.post(body, content_type="application/json", sign=False).status_code == 401
    bad = {"X-Slack-Signature": "v0=" + "0" * 64}
    assert slack.post(body, content_type="application/json", headers=bad).status_code == 401
    stale = int(time.time()) - 600
    assert slack.post(body, content_type="application/json", ts=stale).status_code == 401
    no_ts = slack.client.post(
        "/slack/events",
        data=body,
        headers={"Content-Type": "application/json", "X-Slack-Signature": "v0=" + "1" * 64},
    )
    assert no_ts.status_code == 401
    # Slack's documented request, replayed now: its old timestamp makes it stale.
    resp = slack.post(
        DOC_BODY,
        content_type="application/x-www-form-urlencoded",
        ts=int(DOC_TIMESTAMP),
        headers={"X-Slack-Signature": DOC_SIGNATURE},
    )
    assert resp.status_code == 401
    # A command signed with another secret runs nothing either.
    forged = slack.post(
        "command=%2Fqb-replay&text=failed&team_id=T1&user_id=UADMIN",
        content_type="application/x-www-form-urlencoded",
        headers={
            "X-Slack-Signature": SignatureVerifier("other").generate_signature(
                timestamp=str(int(time.time())), body="x"
            )
        },
    )
    assert forged.status_code == 401
    assert slack.tenant().status == "active"
    with slack.runtime.transaction() as db:
        assert db.scalar(select(func.count()).select_from(SlackEventReceipt)) == 0
    assert slack.fake.calls() == []


def test_url_verification_challenge(slack):
    resp = slack.post(
        '{"type":"url_verification","challenge":"abc123","token":"t"}',
        content_type="application/json",
    )
    assert resp.status_code == 200 and "abc123" in resp.get_data(as_text=True)


def test_retried_event_has_one_side_effect(installed):
    slack = installed
    event = {"type": "app_home_opened", "user": "UADMIN", "tab": "home"}
    assert slack.event(event, event_id="EvHome").status_code == 200
    slack.fake.wait_for("views.publish")
    for n in (1, 2, 3):
        retry = slack.event(
            event,
            event_id="EvHome",
            headers={"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert retry.status_code == 200
    # A new event after the retries: once its publish is seen, the retries had their chance.
    slack.event({"type": "app_home_opened", "user": "UMEMBER", "tab": "home"}, event_id="EvOther")
    slack.fake.wait_for(
        lambda calls: any(
            c.method == "views.publish" and c.params["user_id"] == "UMEMBER" for c in calls
        )
    )
    publishes = slack.fake.calls("views.publish")
    assert [c.params["user_id"] for c in publishes] == ["UADMIN", "UMEMBER"]
    with slack.runtime.transaction() as db:
        assert set(db.scalars(select(SlackEventReceipt.event_id))) == {"EvHome", "EvOther"}


def revoke_and_check(slack: SlackHarness, event: dict[str, Any], event_id: str) -> None:
    with slack.runtime.transaction() as db:
        t = db.scalar(select(Tenant))
        assert t is not None
        conn = db.scalars(select(Connection)).one()
        conn.password_hash = hash_password("pw")
        set_route(t.id, "bill", "CKEEP", db_session=db)
        db.add(Watermark(connection_id=conn.id, entity="bill", value="2026-11-01T10:00:00-05:00"))
        db.add(
            Event(
                tenant_id=t.id,
                connection_id=conn.id,
                event_type="bill",
                action="created",
                object_type="Bill",
                object_id="TX-P",
                edit_sequence="1",
                payload={},
                status=EventStatus.PAUSED,
            )
        )
        username = conn.qbwc_username
    assert slack.event(event, event_id=event_id).status_code == 200
    eventually(lambda: (t := slack.tenant()) is not None and t.status == "uninstalled")
    with slack.runtime.transaction() as db:
        row = db.execute(
            text(
                "SELECT bot_token_encrypted, bot_refresh_token_encrypted, "
                "user_token_encrypted FROM installations"
            )
        ).one()
        assert tuple(row) == (None, None, None)
        assert authenticate(username, "pw", db_session=db).value == ["", "nvu"]
    # A command now gets the reinstall hint, and nothing runs.
    slack.command("/qb-replay", "failed")
    assert "reinstall" in slack.responses()[0]


def test_uninstall_keeps_data_and_reinstall_resumes(installed):
    slack = installed
    revoke_and_check(slack, {"type": "app_uninstalled"}, "EvUninstall")
    slack.install(code="code-2")
    assert slack.tenant().status == "active"
    with slack.runtime.transaction() as db:
        assert [r.channel_id for r in db.scalars(select(Route))] == ["CKEEP"]
        assert len(db.scalars(select(Connection)).all()) == 1
        assert db.scalar(select(Watermark.value)) == "2026-11-01T10:00:00-05:00"
        # The event parked while uninstalled is pending again (and scheduled).
        assert db.scalar(select(Event.status)) == EventStatus.PENDING


def test_tokens_revoked_marks_uninstalled(installed):
    slack = installed
    revoke_and_check(
        slack, {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}, "EvRevoked"
    )
    with slack.runtime.transaction() as db:
        assert db.scalar(select(Tenant.status_reason)) == "Slack tokens revoked"
        assert db.scalar(select(func.count()).select_from(Route)) == 1


def test_user_token_revocation_alone_changes_nothing(installed):
    slack = installed
    slack.event(
        {"type": "tokens_revoked", "tokens": {"oauth": ["UX"], "bot": []}}, event_id="EvUserOnly"
    )
    # Followed by a Home open: once it is published, the revocation was handled.
    slack.event({"type": "app_home_opened", "user": "UADMIN", "tab": "home"}, event_id="EvH")
    slack.fake.wait_for("views.publish")
    assert slack.tenant().status == "active"


def test_state_store_is_single_use_and_expiring(slack):

    store = DbOAuthStateStore(slack.runtime)
    state = store.issue()
    assert len(state) >= 32 and state != store.issue()
    assert store.consume(state) is True
    assert store.consume(state) is False  # single use
    old = store.issue()
    with slack.runtime.transaction() as db:
        db.get(OAuthState, old).expires_at = db.get(OAuthState, old).expires_at.replace(year=2000)
    assert store.consume(old) is False and store.consume("") is False
