"""The Slack app over HTTP against the fake Slack: install, signatures, commands, Home."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select, text

from jobs.models import FAILED, Event
from soap.session import authenticate
from tenants.credentials import verify_password
from tenants.models import Connection, OAuthState, Route, Tenant

DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121"
    ".803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def install(h, team="T1", code="code-1", installer="UINSTALLER"):
    h.fake.add_oauth_code(code, team_id=team, team_name=f"Firm {team}",
                          bot_token=f"xoxb-{team}", authed_user_id=installer)
    resp = h.client.get("/slack/install")
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    state = parse_qs(location.query)["state"][0]
    done = h.client.get(f"/slack/oauth_redirect?code={code}&state={state}")
    assert done.status_code == 200, done.get_data(as_text=True)
    return state


def tenant(h, team="T1"):
    with h.runtime.transaction() as db:
        return db.scalar(select(Tenant).where(Tenant.team_id == team))


def wait_response(h, count=1):
    return h.fake.wait_for("response.hook", count=count)[-1].params


def test_documented_signature_vector():
    class FixedClock:
        def now(self) -> float:
            return 1531420618

    verifier = SignatureVerifier(DOC_SECRET, clock=FixedClock())
    assert verifier.is_valid(DOC_BODY, "1531420618", DOC_SIGNATURE)
    assert not verifier.is_valid(DOC_BODY + "x", "1531420618", DOC_SIGNATURE)


def test_install_over_http_stores_encrypted_tokens_and_dms_installer(slack):
    state = install(slack)
    t = tenant(slack)
    assert t.status == "active" and t.team_name == "Firm T1"
    with slack.runtime.transaction() as db:
        raw = db.execute(text("SELECT bot_token_encrypted FROM installations")).scalar_one()
        conns = db.scalars(select(Connection)).all()
        assert db.get(OAuthState, state) is None  # single use
    assert "xoxb-T1" not in raw
    assert len(conns) == 1 and conns[0].qbwc_username
    dm = slack.fake.wait_for("chat.postMessage")[0]
    assert dm.params["channel"] == "UINSTALLER" and "Home" in dm.params["text"]
    assert "assword:" not in dm.params["text"]  # no password ever goes into a message
    assert slack.fake.calls("oauth.v2.access")[0].ok


def test_oauth_redirect_with_unknown_state_is_refused(slack):
    slack.fake.add_oauth_code("code-x", team_id="T1", team_name="x", bot_token="xoxb-x")
    resp = slack.client.get("/slack/oauth_redirect?code=code-x&state=forged")
    assert resp.status_code >= 400
    assert tenant(slack) is None and not slack.fake.calls("oauth.v2.access")


def test_bad_missing_or_stale_signature_is_401_and_changes_nothing(slack):
    install(slack)
    body = '{"type":"event_callback","team_id":"T1","event_id":"E1",' \
           '"event":{"type":"app_uninstalled"}}'
    assert slack.post(body, content_type="application/json", sign=False).status_code == 401
    bad = {"X-Slack-Signature": "v0=" + "0" * 64}
    assert slack.post(body, content_type="application/json", headers=bad).status_code == 401
    stale = int(time.time()) - 600
    assert slack.post(body, content_type="application/json", ts=stale).status_code == 401
    # Slack's documented request, replayed now: its old timestamp makes it stale.
    resp = slack.post(DOC_BODY, content_type="application/x-www-form-urlencoded",
                      ts=1531420618, headers={"X-Slack-Signature": DOC_SIGNATURE})
    assert resp.status_code == 401
    assert tenant(slack).status == "active"


def test_retried_event_has_one_side_effect(slack):
    install(slack)
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    event = {"type": "app_home_opened", "user": "UADMIN", "tab": "home"}
    assert slack.event(event, event_id="EvHome").status_code == 200
    slack.fake.wait_for("views.publish")
    retry = slack.event(event, event_id="EvHome", headers={"X-Slack-Retry-Num": "1",
                                                           "X-Slack-Retry-Reason": "timeout"})
    assert retry.status_code == 200
    time.sleep(0.3)
    assert len(slack.fake.calls("views.publish")) == 1


def test_app_home_shows_status_and_admin_buttons(slack):
    install(slack)
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    slack.fake.add_user("UMEMBER", team_id="T1")
    slack.event({"type": "app_home_opened", "user": "UADMIN", "tab": "home"}, event_id="E2")
    slack.event({"type": "app_home_opened", "user": "UMEMBER", "tab": "home"}, event_id="E3")
    calls = slack.fake.wait_for("views.publish", count=2)
    by_user = {c.params["user_id"]: str(c.params["view"]) for c in calls}
    assert "Not yet polled" in by_user["UADMIN"] and "/qwc/" in by_user["UADMIN"]
    assert "reset_password" in by_user["UADMIN"] and "add_company" in by_user["UADMIN"]
    assert "/qwc/" not in by_user["UMEMBER"] and "reset_password" not in by_user["UMEMBER"]


def test_reset_password_shows_it_once_in_a_modal(slack):
    install(slack)
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    with slack.runtime.transaction() as db:
        conn = db.scalars(select(Connection)).one()
    slack.interaction({"type": "block_actions", "team": {"id": "T1"},
                       "user": {"id": "UADMIN"}, "trigger_id": "1.2.3",
                       "actions": [{"action_id": "reset_password", "value": str(conn.id),
                                    "type": "button"}]})
    opened = slack.fake.wait_for("views.open")[0]
    view = str(opened.params["view"])
    password = view.split("Password: `")[1].split("`")[0]
    with slack.runtime.transaction() as db:
        assert verify_password(password, db.get(Connection, conn.id).password_hash)
    assert not any(password in str(c.params) for c in slack.fake.calls("chat.postMessage"))


def test_routes_commands_admin_and_refusal(slack):
    install(slack)
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    slack.fake.add_user("UMEMBER", team_id="T1")
    slack.fake.add_channel("CBILLS", name="bills")
    slack.fake.add_channel("CSECRET", name="secret", is_private=True, is_member=False)
    resp = slack.command("/qb-routes", "set bill <#CBILLS|bills>", user="UMEMBER")
    assert resp.status_code == 200
    assert "only workspace admins" in wait_response(slack)["text"]
    slack.command("/qb-routes", "set bill <#CBILLS|bills>")
    assert "now go to <#CBILLS>" in wait_response(slack, 2)["text"]
    slack.command("/qb-routes", "set vendor #secret")
    answer = wait_response(slack, 3)["text"]
    assert "<#CSECRET>" in answer and "/invite" in answer
    slack.command("/qb-routes", "set default C0DEFAULT1")
    wait_response(slack, 4)
    slack.command("/qb-routes", "list", user="UMEMBER")
    listing = wait_response(slack, 5)["text"]
    assert "<#CBILLS>" in listing and "<#C0DEFAULT1>" in listing
    slack.command("/qb-routes", "clear vendor")
    assert "Removed" in wait_response(slack, 6)["text"]
    slack.command("/qb-routes", "set nonsense C1")
    assert "Unknown event type" in wait_response(slack, 7)["text"]
    with slack.runtime.transaction() as db:
        got = {r.event_type: r.channel_id for r in db.scalars(select(Route))}
    assert got == {"bill": "CBILLS", "default": "C0DEFAULT1"}


def test_routes_modal_open_and_submit(slack):
    install(slack)
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    slack.command("/qb-routes", "")
    view = slack.fake.wait_for("views.open")[0].params["view"]
    assert view["callback_id"] == "routes_modal"
    values = {f"route_{k}": {"value": {"type": "conversations_select",
                                       "selected_conversation": None}}
              for k in ("vendor", "purchase_order", "bill_payment", "payment_received",
                        "invoice", "account", "employee", "default")}
    values["route_bill"] = {"value": {"type": "conversations_select",
                                      "selected_conversation": "CB2"}}
    resp = slack.interaction({"type": "view_submission", "team": {"id": "T1"},
                              "user": {"id": "UADMIN"},
                              "view": {"type": "modal", "callback_id": "routes_modal", "id": "V1",
                                       "state": {"values": values}}})
    assert resp.status_code == 200 and "update" in resp.get_data(as_text=True)
    with slack.runtime.transaction() as db:
        assert [(r.event_type, r.channel_id) for r in db.scalars(select(Route))] == [
            ("bill", "CB2")]


def test_add_company_modal_gives_credentials(slack):
    install(slack)
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "UADMIN"},
               "view": {"type": "modal", "callback_id": "add_company_modal", "id": "V2",
                        "state": {"values": {"company": {"value": {
                            "type": "plain_text_input", "value": "Client B"}}}}}}
    resp = slack.interaction(payload)
    body = resp.get_data(as_text=True)
    assert "Client B" in body and "Password:" in body and "/qwc/" in body
    again = slack.interaction(payload).get_data(as_text=True)
    assert "errors" in again  # the same name twice is refused with a clear error


def test_replay_command(slack):
    install(slack)
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    slack.fake.add_user("UMEMBER", team_id="T1")
    with slack.runtime.transaction() as db:
        t = db.scalar(select(Tenant))
        conn = db.scalars(select(Connection)).one()
        db.add(Event(tenant_id=t.id, connection_id=conn.id, event_type="bill",
                     action="created", object_type="Bill", object_id="TX-1",
                     edit_sequence="1", ref_number="INV-9", payload={}, status=FAILED))
    slack.command("/qb-replay", "failed", user="UMEMBER")
    assert "only workspace admins" in wait_response(slack)["text"]
    slack.command("/qb-replay", "failed")
    assert "Queued 1 event" in wait_response(slack, 2)["text"]
    slack.command("/qb-replay", "NOPE-404")
    assert "No event found" in wait_response(slack, 3)["text"]
    slack.command("/qb-replay", "since 2026-13-45")
    assert "not a date" in wait_response(slack, 4)["text"]


def test_qwc_link_valid_expired_tampered(slack):
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from app.qwc_download import qwc_link

    install(slack)
    with slack.runtime.transaction() as db:
        conn = db.scalars(select(Connection)).one()
        link = qwc_link(slack.runtime.settings, conn)
    path = urlsplit(link).path
    ok = slack.client.get(path)
    assert ok.status_code == 200 and ok.mimetype == "application/xml"
    assert "attachment" in ok.headers["Content-Disposition"]
    assert conn.qbwc_username in ok.get_data(as_text=True)
    assert slack.client.get(path[:-3] + "abc").status_code == 404

    class ElevenMinutesAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 660

    old = URLSafeTimedSerializer(slack.runtime.settings.secret_key, salt="qbslack-qwc",
                                 signer=ElevenMinutesAgo)
    expired = slack.client.get("/qwc/" + old.dumps({"c": conn.id, "t": conn.tenant_id}))
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)


def test_uninstall_revokes_and_qbwc_gets_nvu_then_reinstall_keeps_routes(slack):
    install(slack)
    with slack.runtime.transaction() as db:
        from tenants.credentials import hash_password
        from tenants.routes import set_route

        t = db.scalar(select(Tenant))
        conn = db.scalars(select(Connection)).one()
        conn.password_hash = hash_password("pw")
        set_route(t.id, "bill", "CKEEP", db_session=db)
        username = conn.qbwc_username
    slack.event({"type": "app_uninstalled"}, event_id="EvUninstall")
    deadline = time.time() + 5
    while tenant(slack).status != "uninstalled" and time.time() < deadline:
        time.sleep(0.05)
    assert tenant(slack).status == "uninstalled"
    with slack.runtime.transaction() as db:
        raw = db.execute(text("SELECT bot_token_encrypted FROM installations")).scalar_one()
        assert raw is None
        assert authenticate(username, "pw", db_session=db) == ["", "nvu"]
    install(slack, code="code-2")
    assert tenant(slack).status == "active"
    with slack.runtime.transaction() as db:
        assert [r.channel_id for r in db.scalars(select(Route))] == ["CKEEP"]
        assert len(db.scalars(select(Connection)).all()) == 1


def test_another_workspace_cannot_touch_this_ones_data(slack):
    install(slack, team="T1", code="c1")
    install(slack, team="T2", code="c2", installer="UB")
    slack.fake.add_user("UB", team_id="T2", is_admin=True)
    with slack.runtime.transaction() as db:
        conn_a = db.scalar(select(Connection).join(Tenant).where(Tenant.team_id == "T1"))
        hash_a = conn_a.password_hash
    # T2's admin presses "Reset QBWC password" with T1's connection id.
    slack.interaction({"type": "block_actions", "team": {"id": "T2"}, "user": {"id": "UB"},
                       "trigger_id": "9.9.9", "actions": [{"action_id": "reset_password",
                                                           "value": str(conn_a.id),
                                                           "type": "button"}]})
    time.sleep(0.5)
    assert not slack.fake.calls("views.open")
    slack.command("/qb-routes", "set bill C0B2222222", user="UB", team="T2")
    wait_response(slack)
    with slack.runtime.transaction() as db:
        assert db.get(Connection, conn_a.id).password_hash == hash_a
        routes = db.execute(select(Tenant.team_id, Route.channel_id).join(
            Route, Route.tenant_id == Tenant.id)).all()
    assert routes == [("T2", "C0B2222222")]


def test_app_home_tells_the_admin_about_failed_deliveries(slack):
    install(slack)
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    with slack.runtime.transaction() as db:
        t = db.scalar(select(Tenant))
        conn = db.scalars(select(Connection)).one()
        db.add(Event(tenant_id=t.id, connection_id=conn.id, event_type="bill",
                     action="created", object_type="Bill", object_id="TX-2",
                     edit_sequence="1", ref_number="INV-404", payload={}, status=FAILED,
                     channel_id="CGONE", last_error="the channel is archived"))
    slack.event({"type": "app_home_opened", "user": "UADMIN", "tab": "home"}, event_id="E9")
    view = str(slack.fake.wait_for("views.publish")[0].params["view"])
    assert "INV-404" in view and "archived" in view and "Failed: 1" in view
