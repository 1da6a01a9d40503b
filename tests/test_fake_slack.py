"""The fake Slack Web API behaves like Slack where our code depends on it."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes import fake_slack_server


@pytest.fixture
def fake():
    with fake_slack_server(post_interval=0.3) as server:
        server.add_token("xoxb-ok")
        yield server


def client(fake, token="xoxb-ok"):
    return WebClient(token=token, base_url=fake.url, retry_handlers=[])


def test_post_update_and_recording(fake):
    c = client(fake)
    resp = c.chat_postMessage(channel="C1", text="hello", blocks=[{"type": "divider"}])
    assert resp["ok"] and resp["ts"]
    c.chat_update(channel="C1", ts=resp["ts"], text="edited")
    assert fake.messages[("C1", resp["ts"])]["text"] == "edited"
    assert [p.params["text"] for p in fake.posts("C1")] == ["hello"]
    with pytest.raises(SlackApiError) as err:
        c.chat_update(channel="C1", ts="1.2", text="x")
    assert err.value.response["error"] == "message_not_found"


def test_tokens_are_checked(fake):
    with pytest.raises(SlackApiError) as err:
        client(fake, "xoxb-bad").auth_test()
    assert err.value.response["error"] == "invalid_auth"
    fake.revoke_token("xoxb-ok")
    with pytest.raises(SlackApiError) as err:
        client(fake).auth_test()
    assert err.value.response["error"] == "token_revoked"


def test_rate_limit_per_channel(fake):
    c = client(fake)
    c.chat_postMessage(channel="C1", text="one")
    with pytest.raises(SlackApiError) as err:
        c.chat_postMessage(channel="C1", text="two")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    c.chat_postMessage(channel="C2", text="other channel is independent")
    assert len(fake.posts()) == 2
    assert fake.calls("chat.postMessage", "C1")[-1].http_status == 429


def test_failure_injection(fake):
    c = client(fake)
    fake.fail("chat.postMessage", channel="C9", error="channel_not_found", times=1)
    with pytest.raises(SlackApiError) as err:
        c.chat_postMessage(channel="C9", text="x")
    assert err.value.response["error"] == "channel_not_found"
    c.chat_postMessage(channel="C9", text="x")
    fake.fail("chat.postMessage", http_status=500, error="internal_error", times=1)
    with pytest.raises(SlackApiError) as err:
        c.chat_postMessage(channel="C8", text="x")
    assert err.value.response.status_code == 500


def test_channels_users_views_oauth_and_upload(fake):
    c = client(fake)
    fake.add_channel("CPRIV", name="secret", is_private=True, is_member=False)
    assert c.conversations_info(channel="CPRIV")["channel"]["is_private"]
    with pytest.raises(SlackApiError):
        c.conversations_join(channel="CPRIV")
    fake.add_channel("CPUB", is_member=False)
    with pytest.raises(SlackApiError) as err:
        c.chat_postMessage(channel="CPUB", text="x")
    assert err.value.response["error"] == "not_in_channel"
    c.conversations_join(channel="CPUB")
    assert c.chat_postMessage(channel="CPUB", text="x")["ok"]
    fake.add_user("UADMIN", is_admin=True)
    assert c.users_info(user="UADMIN")["user"]["is_admin"]
    view = c.views_open(trigger_id="123.456", view={"type": "modal", "blocks": []})["view"]
    c.views_update(view_id=view["id"], view={"type": "modal", "blocks": [{"type": "divider"}]})
    c.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert c.chat_postEphemeral(channel="C1", user="U1", text="psst")["ok"]
    fake.add_oauth_code("code-1", team_id="T9", team_name="Nine", bot_token="xoxb-nine")
    grant = WebClient(base_url=fake.url).oauth_v2_access(
        client_id=fake.client_id, client_secret=fake.client_secret, code="code-1")
    assert grant["team"]["id"] == "T9" and "xoxb-nine" in fake.valid_tokens
    upload = c.files_upload_v2(channel="C1", content="a,b\n1,2\n", filename="x.csv")
    assert upload["ok"]
    assert any(f["content"] == b"a,b\n1,2\n" for f in fake.files.values())
