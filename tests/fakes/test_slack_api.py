"""The fake Slack Web API behaves like Slack where our code depends on it (real WebClient)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes import FakeSlack, fake_slack_server

TOKEN = "xoxb-ok"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    # No rate limit unless a test turns it on (fake.post_interval = 0.2).
    with fake_slack_server(post_interval=0) as server:
        server.add_token(TOKEN)
        yield server


def web(fake: FakeSlack, token: str | None = TOKEN) -> WebClient:
    # No retry handlers: the tests want to see Slack's raw answers (429 included).
    return WebClient(token=token, base_url=fake.url, retry_handlers=[])


def slack_error(call: Callable[..., Any], *args: Any, **kwargs: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call(*args, **kwargs)
    return caught.value


# -- server and transport ----------------------------------------------------
def test_url_lifecycle_and_unknown_method() -> None:
    fake = FakeSlack()
    with fake:
        assert fake.url.startswith("http://127.0.0.1:") and fake.url.endswith("/api/")
        fake.add_token(TOKEN)
        e = slack_error(web(fake).api_call, "no.suchMethod")
        assert e.response.status_code == 200 and e.response["error"] == "unknown_method"
    fake.stop()  # stopping twice is harmless


def raw_post(url: str, body: bytes, content_type: str, **headers: str) -> dict[str, Any]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type, **headers})
    with urllib.request.urlopen(req) as resp:
        return dict(json.loads(resp.read()))


def test_form_get_multipart_and_token_param_are_understood(fake: FakeSlack) -> None:
    web(fake, token=None).api_call(
        "chat.postMessage", data={"channel": "C1", "text": "form"}, params={"token": TOKEN}
    )
    slack_error(web(fake).api_call, "users.info", http_verb="GET", params={"user": "UX"})
    # A token as a form parameter (no Authorization header), as old clients send it.
    raw_post(fake.url + "auth.test", f"token={TOKEN}".encode(), "application/x-www-form-urlencoded")
    body = (
        '--b\r\nContent-Disposition: form-data; name="channel"\r\n\r\nC2\r\n'
        '--b\r\nContent-Disposition: form-data; name="text"\r\n\r\nmulti\r\n--b--\r\n'
    )
    assert raw_post(
        fake.url + "chat.postMessage",
        body.encode(),
        "multipart/form-data; boundary=b",
        Authorization=f"Bearer {TOKEN}",
    )["ok"]
    form, get, token_param, multi = fake.calls()
    assert form.ok and form.params["text"] == "form" and form.token == TOKEN
    assert form.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert get.params == {"user": "UX"} and get.response["error"] == "user_not_found"
    assert token_param.ok and token_param.token == TOKEN
    assert multi.ok and multi.params == {"channel": "C2", "text": "multi"}
    assert multi.headers["Content-Type"].startswith("multipart/form-data")


def test_json_bodies_and_bearer_header_are_recorded(fake: FakeSlack) -> None:
    web(fake).chat_postMessage(channel="C1", text="hi", blocks=[{"type": "divider"}])
    (call,) = fake.calls()
    assert call.method == "chat.postMessage" and call.token == TOKEN
    assert call.params["blocks"] == [{"type": "divider"}]
    assert call.headers["Content-Type"].startswith("application/json")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Python" in call.headers["User-Agent"] and call.http_status == 200


# -- tokens and OAuth --------------------------------------------------------
def test_tokens_are_checked(fake: FakeSlack) -> None:
    assert slack_error(web(fake, "xoxb-bad").auth_test).response["error"] == "invalid_auth"
    assert slack_error(web(fake, None).auth_test).response["error"] == "not_authed"
    me = web(fake).auth_test()
    assert (me["team_id"], me["user_id"], me["bot_id"]) == ("T1", "UBOT", "B0QBSLACK")
    assert me["url"].startswith("https://") and me["team"] and me["user"]
    fake.revoke_token(TOKEN)
    assert slack_error(web(fake).auth_test).response["error"] == "token_revoked"
    assert fake.calls("auth.test")[-1].response["error"] == "token_revoked"


def test_oauth_v2_access_installs_a_workspace(fake: FakeSlack) -> None:
    fake.add_oauth_code(
        "code-1",
        team_id="T9",
        team_name="Nine",
        bot_token="xoxb-nine",
        bot_user_id="UBOT9",
        authed_user_id="UADMIN9",
    )
    grant = WebClient(base_url=fake.url).oauth_v2_access(
        client_id="111.222", client_secret="client-secret-for-tests", code="code-1"
    )
    assert grant["access_token"] == "xoxb-nine" and grant["token_type"] == "bot"
    assert grant["team"] == {"id": "T9", "name": "Nine"} and grant["enterprise"] is None
    assert grant["authed_user"]["id"] == "UADMIN9" and grant["bot_user_id"] == "UBOT9"
    assert grant["app_id"] and "chat:write" in grant["scope"].split(",")
    assert grant["is_enterprise_install"] is False
    assert "xoxb-nine" in fake.valid_tokens
    assert web(fake, "xoxb-nine").auth_test()["team_id"] == "T9"  # Bolt asks right after
    exchange = fake.calls("oauth.v2.access")[0]
    assert exchange.params["client_id"] == "111.222" and exchange.params["code"] == "code-1"


def test_oauth_refusals_and_user_tokens(fake: FakeSlack) -> None:
    fake.expected_client_secret = "s3cret"
    fake.add_oauth_code(
        "c",
        team_id="T2",
        team_name="Two",
        bot_token="xoxb-two",
        user_token="xoxp-two",
        user_scope="identify",
    )

    def exchange(**kw: str) -> str:
        args = {"client_id": "111.222", "client_secret": "s3cret", "code": "c"} | kw
        return str(
            slack_error(WebClient(base_url=fake.url).oauth_v2_access, **args).response["error"]
        )

    assert exchange(client_secret="wrong") == "bad_client_secret"
    assert exchange(client_id="999") == "invalid_client_id"
    assert exchange(code="nope") == "invalid_code"
    # Form parameters work as well as HTTP Basic auth.
    grant = WebClient(base_url=fake.url).api_call(
        "oauth.v2.access", data={"client_id": "111.222", "client_secret": "s3cret", "code": "c"}
    )
    assert grant["authed_user"] == {
        "id": "UINSTALLER",
        "scope": "identify",
        "access_token": "xoxp-two",
        "token_type": "user",
    }
    assert {"xoxb-two", "xoxp-two"} <= fake.valid_tokens
    assert exchange() == "invalid_code"  # a code works once


# -- chat --------------------------------------------------------------------
def test_post_update_delete_and_ephemeral(fake: FakeSlack) -> None:
    c = web(fake)
    first = c.chat_postMessage(channel="C1", text="hello", blocks=[{"type": "divider"}])
    assert first["channel"] == "C1" and first["message"]["text"] == "hello"
    assert first["message"]["blocks"] == [{"type": "divider"}]
    assert "thread_ts" not in first["message"] and first["message"]["bot_id"]
    reply = c.chat_postMessage(channel="C1", text="reply", thread_ts=first["ts"])
    assert reply["message"]["thread_ts"] == first["ts"]
    assert float(reply["ts"]) > float(first["ts"]) and reply["ts"].split(".")[1].isdigit()
    assert fake.messages[("C1", first["ts"])]["reply_count"] == 1
    assert [p.params["text"] for p in fake.replies("C1", first["ts"])] == ["reply"]
    updated = c.chat_update(channel="C1", ts=first["ts"], text="edited", blocks=[])
    assert updated["ts"] == first["ts"] and updated["message"]["text"] == "edited"
    assert fake.messages[("C1", first["ts"])]["text"] == "edited"
    assert (
        slack_error(c.chat_update, channel="C1", ts="1.2", text="x").response["error"]
        == "message_not_found"
    )
    assert c.chat_postEphemeral(channel="C1", user="U1", text="psst")["message_ts"]
    c.chat_delete(channel="C1", ts=reply["ts"])
    assert ("C1", reply["ts"]) not in fake.messages
    assert [p.params["text"] for p in fake.posts()] == ["hello", "reply"]


def test_post_refusals(fake: FakeSlack) -> None:
    c = web(fake)
    fake.add_channel("COUT", is_member=False)
    fake.add_channel("CARCH", is_archived=True)
    cases = {"COUT": "not_in_channel", "CARCH": "is_archived"}
    for channel, error in cases.items():
        assert slack_error(c.chat_postMessage, channel=channel, text="x").response["error"] == error
    # api_call: chat_postMessage itself would warn about the missing text first.
    assert (
        slack_error(c.api_call, "chat.postMessage", json={"channel": "C1"}).response["error"]
        == "no_text"
    )
    assert (
        slack_error(c.chat_postMessage, channel="C1", text="x" * 40001).response["error"]
        == "msg_too_long"
    )
    too_many = [{"type": "divider"}] * 51
    assert (
        slack_error(c.chat_postMessage, channel="C1", text="x", blocks=too_many).response["error"]
        == "invalid_blocks"
    )
    assert fake.posts() == []


def test_unknown_channels_exist_unless_strict(fake: FakeSlack) -> None:
    c = web(fake)
    assert c.chat_postMessage(channel="CANY", text="x")["ok"]
    assert c.chat_postMessage(channel="UINSTALLER", text="a DM")["ok"]  # app DM by user id
    fake.strict_channels = True
    e = slack_error(c.chat_postMessage, channel="CGONE", text="x")
    assert e.response["error"] == "channel_not_found"
    assert c.chat_postMessage(channel="UINSTALLER", text="still a DM")["ok"]


# -- rate limit ---------------------------------------------------------------
def test_rate_limit_is_per_channel_and_answers_429(fake: FakeSlack) -> None:
    fake.post_interval = 0.2
    c = web(fake)
    c.chat_postMessage(channel="C1", text="one")
    e = slack_error(c.chat_postMessage, channel="C1", text="two")
    assert e.response.status_code == 429 and e.response["error"] == "ratelimited"
    assert e.response.headers["Retry-After"] == "1"
    c.chat_postMessage(channel="C2", text="other channel is independent")
    assert len(fake.posts()) == 2
    refused = fake.calls("chat.postMessage", "C1")[-1]
    assert refused.http_status == 429 and not refused.ok
    # After the interval the channel takes posts again; the gap is what the fake judged.
    time.sleep(max(0.0, fake.posts("C1")[0].time + 0.2 - time.monotonic()))
    c.chat_postMessage(channel="C1", text="three")
    assert fake.min_gap("C1") >= 0.2 - fake.tolerance
    assert fake.min_gap("C2") == float("inf")


def test_retry_after_is_the_ceiling_of_the_wait() -> None:
    with fake_slack_server(post_interval=2.5) as fake:
        fake.add_token(TOKEN)
        web(fake).chat_postMessage(channel="C1", text="one")
        e = slack_error(web(fake).chat_postMessage, channel="C1", text="two")
        assert e.response.headers["Retry-After"] == "3"


def test_rate_limit_off_and_separate_per_workspace() -> None:
    with fake_slack_server(post_interval=0) as fake:
        fake.add_token(TOKEN)
        for i in range(5):
            web(fake).chat_postMessage(channel="C1", text=str(i))
        assert len(fake.posts("C1")) == 5
    with fake_slack_server(post_interval=60) as fake:
        fake.add_token("xoxb-a", team_id="TA")
        fake.add_token("xoxb-b", team_id="TB")
        web(fake, "xoxb-a").chat_postMessage(channel="C1", text="a")
        web(fake, "xoxb-b").chat_postMessage(channel="C1", text="b")  # another workspace's C1
        assert len(fake.posts("C1")) == 2


def test_real_one_second_rule_accepts_after_a_second() -> None:
    # The default interval, once: a post 1 s later is accepted and the gap is >= 0.98 s.
    with fake_slack_server() as fake:
        fake.add_token(TOKEN)
        web(fake).chat_postMessage(channel="C1", text="one")
        assert (
            slack_error(web(fake).chat_postMessage, channel="C1", text="x").response["error"]
            == "ratelimited"
        )
        time.sleep(1.0)
        web(fake).chat_postMessage(channel="C1", text="two")
        assert fake.min_gap("C1") >= 0.98


# -- users, conversations, views, files ---------------------------------------
def test_users_info(fake: FakeSlack) -> None:
    fake.add_user("UADMIN", team_id="T1", is_admin=True, name="ada")
    fake.add_user("UOWNER", team_id="T1", is_owner=True)
    user = web(fake).users_info(user="UADMIN")["user"]
    assert user["is_admin"] and not user["is_owner"] and user["name"] == "ada"
    assert user["team_id"] == "T1" and user["profile"]["display_name"] == "ada"
    assert web(fake).users_info(user="UOWNER")["user"]["is_owner"]
    e = slack_error(web(fake).users_info, user="UNOBODY")
    assert e.response["error"] == "user_not_found"


def test_conversations_info_join_and_list(fake: FakeSlack) -> None:
    c = web(fake)
    fake.add_channel("CPRIV", name="secret", is_private=True, is_member=False)
    fake.add_channel("CPUB", name="bills", is_member=False)
    fake.add_channel("COLD", name="old", is_archived=True)
    info = c.conversations_info(channel="CPRIV")["channel"]
    assert info["is_private"] and not info["is_member"] and info["name"] == "secret"
    e = slack_error(c.conversations_join, channel="CPRIV")
    assert e.response["error"] == "method_not_supported_for_channel_type"
    assert (
        slack_error(c.chat_postMessage, channel="CPUB", text="x").response["error"]
        == "not_in_channel"
    )
    assert c.conversations_join(channel="CPUB")["channel"]["is_member"]
    assert c.chat_postMessage(channel="CPUB", text="x")["ok"]
    assert c.conversations_join(channel="CPUB")["warning"] == "already_in_channel"
    fake.strict_channels = True
    assert (
        slack_error(c.conversations_info, channel="CNONE").response["error"] == "channel_not_found"
    )
    listed = c.conversations_list(types="public_channel", exclude_archived=True)["channels"]
    assert [ch["id"] for ch in listed] == ["CPUB"]
    page = c.conversations_list(types="public_channel,private_channel", limit=2)
    rest = c.conversations_list(
        types="public_channel,private_channel",
        limit=2,
        cursor=page["response_metadata"]["next_cursor"],
    )
    assert [ch["id"] for ch in page["channels"] + rest["channels"]] == ["CPRIV", "CPUB", "COLD"]
    assert rest["response_metadata"]["next_cursor"] == ""


def test_views_open_update_publish(fake: FakeSlack) -> None:
    c = web(fake)
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Routes"},
        "blocks": [],
        "external_id": "routes-1",
    }
    view = c.views_open(trigger_id="123.456", view=modal)["view"]
    assert view["id"].startswith("V") and view["type"] == "modal" and view["hash"]
    assert (
        slack_error(c.views_open, trigger_id="", view=modal).response["error"]
        == "invalid_trigger_id"
    )
    new = dict(modal, blocks=[{"type": "divider"}])
    assert c.views_update(view_id=view["id"], view=new)["view"]["blocks"] == new["blocks"]
    assert c.views_update(external_id="routes-1", view=new)["view"]["id"] == view["id"]
    assert (
        slack_error(c.views_update, external_id="nope", view=new).response["error"] == "not_found"
    )
    home = c.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]
    again = c.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]
    assert home["id"] == again["id"] and fake.home_views["U1"]["type"] == "home"
    assert (
        slack_error(c.views_publish, user_id="", view={"type": "home"}).response["error"]
        == "invalid_arguments"
    )


def test_files_upload_v2_end_to_end(fake: FakeSlack) -> None:
    upload = web(fake).files_upload_v2(
        channel="C1", content="a,b\n1,2\n", filename="x.csv", title="Export"
    )
    assert upload["file"]["title"] == "Export" and upload["file"]["channels"] == ["C1"]
    (stored,) = fake.files.values()
    assert stored["content"] == b"a,b\n1,2\n" and stored["name"] == "x.csv"
    methods = [c.method for c in fake.calls()]
    assert methods == ["files.getUploadURLExternal", "upload_url", "files.completeUploadExternal"]
    assert fake.calls("files.completeUploadExternal")[0].channel == "C1"
    e = slack_error(web(fake).files_completeUploadExternal, files=[{"id": "F404"}], channel_id="C1")
    assert e.response["error"] == "file_not_found"


# -- failure injection ---------------------------------------------------------
def test_fail_by_method_and_channel_next_n(fake: FakeSlack) -> None:
    c = web(fake)
    fake.fail("chat.postMessage", channel="C9", error="channel_not_found", times=2)
    for _ in range(2):
        assert (
            slack_error(c.chat_postMessage, channel="C9", text="x").response["error"]
            == "channel_not_found"
        )
    assert c.chat_postMessage(channel="C8", text="other channel unaffected")["ok"]
    assert c.chat_postMessage(channel="C9", text="third time lucky")["ok"]
    fake.fail("users.info", error="ratelimited", http_status=429, retry_after=7)
    for _ in range(2):  # times=None: until cleared
        e = slack_error(c.users_info, user="U1")
        assert e.response.status_code == 429 and e.response.headers["Retry-After"] == "7"
    fake.clear_failures()
    assert slack_error(c.users_info, user="U1").response["error"] == "user_not_found"


def test_fail_with_http_500_and_any_method(fake: FakeSlack) -> None:
    c = web(fake)
    fake.fail(http_status=500, error="internal_error", times=1)
    e = slack_error(c.auth_test)
    assert e.response.status_code == 500 and e.response["error"] == "internal_error"
    assert fake.calls("auth.test")[0].http_status == 500
    assert c.auth_test()["ok"]


def test_fail_randomly_is_seeded() -> None:
    def outcomes() -> list[int]:
        with fake_slack_server(post_interval=0) as fake:
            fake.add_token(TOKEN)
            fake.fail_randomly("chat.postMessage", 0.5, seed=3)
            for i in range(20):
                with contextlib.suppress(SlackApiError):
                    web(fake).chat_postMessage(channel="C1", text=str(i))
            calls = fake.calls("chat.postMessage")
            assert all(
                c.response.get("error") in (None, "ratelimited", "internal_error") for c in calls
            )
            return [c.http_status for c in calls]

    first = outcomes()
    assert first == outcomes() and {200, 429, 500} <= set(first)


# -- recording ----------------------------------------------------------------
def test_calls_filters_reset_and_wait_for(fake: FakeSlack) -> None:
    c = web(fake)
    c.chat_postMessage(channel="C1", text="a")
    c.chat_postMessage(channel="C2", text="b")
    assert [x.channel for x in fake.calls("chat.postMessage")] == ["C1", "C2"]
    assert len(fake.calls(channel="C2")) == 1 and fake.calls("auth.test") == []
    assert fake.calls()[0].time <= fake.calls()[1].time
    assert fake.calls()[0].response["ts"] == fake.posts("C1")[0].response["ts"]
    fake.reset()
    assert fake.calls() == [] and fake.posts() == []
    later = threading.Timer(0.05, lambda: web(fake).chat_postMessage(channel="C3", text="c"))
    later.start()
    try:
        (post,) = fake.wait_for("chat.postMessage", channel="C3")
        assert post.params["text"] == "c"
        assert fake.wait_for(lambda calls: len(calls) == 1)[0] is post
        with pytest.raises(TimeoutError):
            fake.wait_for("chat.postMessage", count=2, timeout=0.05)
    finally:
        later.join()


def test_latency_delays_answers_and_records_after_it(fake: FakeSlack) -> None:
    fake.latency = 0.2
    before = time.monotonic()
    web(fake).auth_test()
    assert fake.calls()[0].time - before >= 0.2
