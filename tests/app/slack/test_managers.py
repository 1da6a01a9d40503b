"""Who manages qbslack: admins and owners, the first installer, and the people a manager adds.

Everything over HTTP: signed requests through the real app, Slack's answers (users.info
included) from the fake Slack Web API server.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select

from app.core.clock import ManualClock
from app.core.jobqueue import InProcessJobQueue
from app.core.runtime import Runtime
from app.slack.permissions import USER_CACHE_SECONDS, slack_user
from tenants import managers
from tenants.enums import TenantStatus
from tenants.managers import MAX_ADDED
from tenants.models import Connection, Installation, Manager, Tenant
from tests.conftest import make_settings
from tests.fakes.slack_api import Call
from tests.support.slack import SlackHarness, eventually

T0 = dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.UTC)
SET_BILLS = "set bill <#CBILLS|bills>"


def pick_user(
    slack: SlackHarness,
    action_id: str,
    selected: str,
    *,
    user: str = "UADMIN",
    team: str = "T1",
    trigger: str = "5.5.5",
) -> None:
    """A users_select choice in App Home (the Managers section's pickers)."""
    resp = slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": team},
            "user": {"id": user, "team_id": team},
            "trigger_id": trigger,
            "api_app_id": "A0QBSLACK",
            "container": {"type": "view", "view_id": "VHOME"},
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "managers",
                    "type": "users_select",
                    "selected_user": selected,
                    "action_ts": "1700000000.1",
                }
            ],
        }
    )
    assert resp.status_code == 200


def publishes(slack: SlackHarness, user: str) -> list[Call]:
    return [c for c in slack.fake.calls("views.publish") if c.params["user_id"] == user]


def home_of(slack: SlackHarness, user: str, event_id: str) -> dict[str, Any]:
    """Open a user's App Home; the view published for it."""
    before = len(publishes(slack, user))
    slack.event({"type": "app_home_opened", "user": user, "tab": "home"}, event_id=event_id)
    slack.fake.wait_for(lambda cs: len(publishes(slack, user)) > before)
    view: dict[str, Any] = publishes(slack, user)[-1].params["view"]
    return view


def answer(slack: SlackHarness, command: str, text: str, user: str, team: str = "T1") -> str:
    """Run a slash command; its ephemeral answer."""
    count = len(slack.fake.calls("response.hook")) + 1
    slack.command(command, text, user=user, team=team)
    return slack.responses(count)[-1]


def modal_text(slack: SlackHarness, count: int) -> str:
    """The text of the count-th modal opened."""
    return str(slack.fake.wait_for("views.open", count=count)[count - 1].params["view"])


def added(slack: SlackHarness, team: str = "T1") -> set[str]:
    with slack.runtime.transaction() as db:
        return set(
            db.scalars(
                select(Manager.user_id)
                .join(Tenant, Tenant.id == Manager.tenant_id)
                .where(Tenant.team_id == team)
            )
        )


def installer_of(slack: SlackHarness, team: str = "T1") -> str | None:
    with slack.runtime.transaction() as db:
        return db.scalar(
            select(Installation.installer_user_id)
            .join(Tenant, Tenant.id == Installation.tenant_id)
            .where(Tenant.team_id == team)
        )


def members(slack: SlackHarness) -> SlackHarness:
    """T1's people as users.info knows them: the installer is a plain member."""
    slack.fake.add_user("UINSTALLER", team_id="T1")
    slack.fake.add_user("UADMIN", team_id="T1", is_admin=True)
    slack.fake.add_user("UMEMBER", team_id="T1")
    slack.fake.add_user("UOTHER", team_id="T1")
    slack.fake.add_channel("CBILLS", name="bills")
    return slack


# -- a later install changes tokens, not who manages ---------------------------------


def test_a_member_who_reinstalls_gains_no_management(slack):
    slack.install()
    members(slack)
    slack.fake.reset()
    conn = slack.connections()[0]

    slack.install(code="code-2", installer="UMEMBER")

    assert installer_of(slack) == "UINSTALLER"
    assert slack.tenant().status == TenantStatus.ACTIVE
    dm = slack.fake.wait_for("chat.postMessage")[0]
    assert dm.params["channel"] == "UMEMBER" and "was updated" in dm.params["text"]
    assert "reset_password" not in str(dm.params) and "assword:" not in str(dm.params)
    assert conn.qbwc_username not in str(dm.params)
    # Routes, replay and the password stay out of reach.
    assert "only qbslack managers" in answer(slack, "/qb-routes", SET_BILLS, "UMEMBER")
    assert "only qbslack managers" in answer(slack, "/qb-replay", "failed", "UMEMBER")
    slack.click("reset_password", str(conn.id), user="UMEMBER")
    assert "only qbslack managers" in modal_text(slack, 1)
    assert slack.connections()[0].password_hash == conn.password_hash
    # The first installer still manages, an admin too.
    assert "Bills now go to <#CBILLS>" in answer(slack, "/qb-routes", SET_BILLS, "UINSTALLER")
    assert "Bills now go to <#CBILLS>" in answer(slack, "/qb-routes", SET_BILLS, "UADMIN")


def test_an_admin_who_reinstalls_gets_the_set_up_dm_but_the_installer_stays(slack):
    slack.install()
    members(slack)
    slack.fake.reset()
    slack.install(code="code-2", installer="UADMIN")
    dm = slack.fake.wait_for("chat.postMessage")[0]
    assert dm.params["channel"] == "UADMIN" and "reset_password" in str(dm.params["blocks"])
    assert installer_of(slack) == "UINSTALLER"


def test_an_operator_disabled_workspace_stays_disabled_after_a_reinstall(slack):
    slack.install()
    members(slack)
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        tenant.status, tenant.status_reason = TenantStatus.DISABLED, "unpaid invoice"
    slack.fake.reset()

    slack.install(code="code-2", installer="UINSTALLER")

    tenant = slack.tenant()
    assert (tenant.status, tenant.status_reason) == (TenantStatus.DISABLED, "unpaid invoice")
    dm = slack.fake.wait_for("chat.postMessage")[0]
    assert "switched off" in dm.params["text"] and "reset_password" not in str(dm.params)
    slack.install(code="code-3", installer="UADMIN")
    assert slack.tenant().status == TenantStatus.DISABLED


# -- the installer and admins, as Slack says now -------------------------------------


def test_an_installer_who_left_the_workspace_no_longer_manages(installed):
    slack = members(installed)
    slack.fake.add_user("UINSTALLER", team_id="T1", deleted=True)
    assert "only qbslack managers" in answer(slack, "/qb-routes", SET_BILLS, "UINSTALLER")
    view = str(home_of(slack, "UINSTALLER", "Ev-gone"))
    assert "reset_password" not in view and "qbwc" not in view.lower()


def test_an_installer_turned_guest_or_unknown_to_slack_does_not_manage(installed):
    slack = members(installed)
    slack.fake.users["UINSTALLER"]["is_restricted"] = True  # a guest now
    assert "only qbslack managers" in answer(slack, "/qb-routes", SET_BILLS, "UINSTALLER")
    slack.fake.users.pop("UINSTALLER")  # users.info: user_not_found
    slack.runtime.clock = ManualClock(T0)  # past the cached answer
    assert "only qbslack managers" in answer(slack, "/qb-routes", SET_BILLS, "UINSTALLER")


def test_admin_status_is_asked_again_once_the_cached_answer_is_old(installed):
    slack = members(installed)
    clock = slack.runtime.clock = ManualClock(T0)
    assert "Bills now go to" in answer(slack, "/qb-routes", SET_BILLS, "UADMIN")
    asked = len(slack.fake.calls("users.info"))
    slack.fake.add_user("UADMIN", team_id="T1")  # no longer an admin
    clock.advance(seconds=USER_CACHE_SECONDS / 2)
    assert "Bills now go to" in answer(slack, "/qb-routes", SET_BILLS, "UADMIN")  # cached
    assert len(slack.fake.calls("users.info")) == asked
    clock.advance(seconds=USER_CACHE_SECONDS / 2 + 1)
    assert "only qbslack managers" in answer(slack, "/qb-routes", SET_BILLS, "UADMIN")
    assert len(slack.fake.calls("users.info")) == asked + 1
    # And the other way: a new admin is a manager once the old answer has expired.
    slack.fake.add_user("UMEMBER", team_id="T1")
    assert "only qbslack managers" in answer(slack, "/qb-routes", SET_BILLS, "UMEMBER")
    slack.fake.add_user("UMEMBER", team_id="T1", is_owner=True)
    clock.advance(seconds=USER_CACHE_SECONDS + 1)
    assert "Bills now go to" in answer(slack, "/qb-routes", SET_BILLS, "UMEMBER")


# -- managers added in App Home -------------------------------------------------------


def test_a_manager_adds_a_member_who_then_manages_until_removed(installed):
    slack = members(installed)
    assert "only qbslack managers" in answer(slack, "/qb-routes", SET_BILLS, "UMEMBER")

    pick_user(slack, "add_manager", "UMEMBER")
    eventually(lambda: added(slack) == {"UMEMBER"})
    slack.fake.wait_for(lambda cs: len(publishes(slack, "UADMIN")) >= 1)  # Home refreshed
    [dm] = slack.fake.wait_for("chat.postMessage", channel="UMEMBER")  # told, by qbslack
    assert "<@UADMIN> made you a *qbslack* manager" in dm.params["text"]
    assert "Bills now go to <#CBILLS>" in answer(slack, "/qb-routes", SET_BILLS, "UMEMBER")
    assert "Nothing to post again" in answer(slack, "/qb-replay", "since 2026-01-01", "UMEMBER")

    # The manager's Home lists them with a Remove button (with a confirmation).
    view = home_of(slack, "UADMIN", "Ev-mgr")
    remove = [
        b["accessory"]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == "remove_manager"
    ]
    assert [r["value"] for r in remove] == ["UMEMBER"] and "confirm" in remove[0]
    text = str(view)
    assert "*Managers*" in text and "<@UINSTALLER>" in text and "admins and owners" in text
    assert "add_manager" in text
    # The new manager's own Home has the set-up buttons and the section.
    assert "reset_password" in str(home_of(slack, "UMEMBER", "Ev-new-mgr"))

    slack.click("remove_manager", "UMEMBER", user="UADMIN")
    eventually(lambda: added(slack) == set())
    assert "only qbslack managers" in answer(slack, "/qb-routes", SET_BILLS, "UMEMBER")


def test_an_added_manager_can_add_and_remove_others(installed):
    slack = members(installed)
    pick_user(slack, "add_manager", "UMEMBER")
    eventually(lambda: added(slack) == {"UMEMBER"})
    pick_user(slack, "add_manager", "UOTHER", user="UMEMBER")
    eventually(lambda: added(slack) == {"UMEMBER", "UOTHER"})
    slack.click("remove_manager", "UMEMBER", user="UOTHER")  # even the one who added them
    eventually(lambda: added(slack) == {"UOTHER"})


def test_a_member_cannot_add_or_remove_managers(installed):
    slack = members(installed)
    pick_user(slack, "add_manager", "UMEMBER", user="UMEMBER")  # not themselves either
    assert "only qbslack managers" in modal_text(slack, 1)
    pick_user(slack, "add_manager", "UOTHER", user="UMEMBER", trigger="5.5.6")
    assert "only qbslack managers" in modal_text(slack, 2)
    pick_user(slack, "add_manager", "UOTHER")
    eventually(lambda: added(slack) == {"UOTHER"})
    slack.click("remove_manager", "UOTHER", user="UMEMBER")
    assert "only qbslack managers" in modal_text(slack, 3)
    assert added(slack) == {"UOTHER"}


def test_the_installer_cannot_be_removed_and_outsiders_cannot_be_added(installed):
    slack = members(installed)
    slack.click("remove_manager", "UINSTALLER", user="UADMIN")
    assert "installed qbslack" in modal_text(slack, 1)
    assert "Bills now go to" in answer(slack, "/qb-routes", SET_BILLS, "UINSTALLER")
    slack.fake.add_user("UEXT", team_id="T2")  # someone of another workspace
    slack.fake.add_user("UGONE", team_id="T1", deleted=True)
    slack.fake.add_user("UGUEST", team_id="T1")
    slack.fake.users["UGUEST"]["is_restricted"] = True
    for n, (user, why) in enumerate(
        [
            ("UEXT", "Only members of this workspace"),
            ("UGONE", "deactivated"),
            ("UGUEST", "Guests cannot"),
            ("UNOBODY", "does not know"),
            ("UINSTALLER", "already a manager"),
        ],
        start=2,
    ):
        pick_user(slack, "add_manager", user, trigger=f"6.6.{n}")
        assert why in modal_text(slack, n), user
    assert added(slack) == set()


def test_managers_of_one_workspace_are_not_managers_of_another(installed):
    slack = members(installed)
    slack.install(team="T2", code="c2", installer="UB")
    slack.fake.add_user("UB", team_id="T2")
    pick_user(slack, "add_manager", "UMEMBER")
    eventually(lambda: added(slack) == {"UMEMBER"})
    # T2's installer removes "UMEMBER" in T2: nothing of T1's changes.
    slack.click("remove_manager", "UMEMBER", user="UB", team="T2")
    assert "not one of the added managers" in modal_text(slack, 1)
    assert added(slack) == {"UMEMBER"}
    # T1's added manager, claiming T2: Slack says they are T1's.
    pick_user(slack, "add_manager", "UMEMBER", user="UMEMBER", team="T2", trigger="7.7.7")
    assert "only qbslack managers" in modal_text(slack, 2)
    assert added(slack, "T2") == set()
    assert "only qbslack managers" in answer(slack, "/qb-routes", SET_BILLS, "UMEMBER", "T2")


def test_added_managers_are_capped_and_the_home_stays_within_slacks_block_limit(installed):
    slack = members(installed)
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant)).one()
        for i in range(40):  # an accounting firm's many clients
            db.add(
                Connection(
                    tenant=tenant,
                    company_name=f"Client {i:02}",
                    qbwc_username=f"qbw-client-{i:02}",
                    password_hash="x",
                )
            )
        for i in range(MAX_ADDED):
            managers.add_manager(tenant.id, f"UM{i:04}", added_by="UADMIN", db_session=db)
    pick_user(slack, "add_manager", "UOTHER")
    assert f"at most {MAX_ADDED} managers" in modal_text(slack, 1)
    assert "UOTHER" not in added(slack)
    view = home_of(slack, "UADMIN", "Ev-many")
    assert len(view["blocks"]) <= 100
    text = str(view)
    assert "*Managers*" in text and "<@UM0049>" in text  # everyone listed
    pickers = [
        e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    pickers += [b["accessory"]["action_id"] for b in view["blocks"] if "accessory" in b]
    assert "remove_manager" in pickers and "add_manager" not in pickers  # at the cap
    assert {"add_company", "edit_routes", "company_search", "home_page_next"} <= set(pickers)
    member_view = home_of(slack, "UMEMBER", "Ev-many-m")
    assert len(member_view["blocks"]) <= 100 and "*Managers*" not in str(member_view)


# -- what members see in App Home -------------------------------------------------------


def test_a_members_home_shows_states_but_no_usernames_or_error_texts(installed):
    slack = members(installed)
    slack.runtime.clock = ManualClock(T0)
    with slack.runtime.transaction() as db:
        conn = db.scalars(select(Connection)).one()
        conn.last_poll_at = T0 - dt.timedelta(minutes=4)
        conn.status, conn.last_error = "error", "QuickBooks is not running (0x80040408)"
        username = conn.qbwc_username
    member = str(home_of(slack, "UMEMBER", "Ev-m"))
    assert ":x: *Error* · last poll 4 min ago" in member and "ask a qbslack manager" in member
    assert username not in member and "QBWC username" not in member
    assert "not running" not in member and "0x80040408" not in member
    manager = str(home_of(slack, "UINSTALLER", "Ev-i"))
    assert username in manager and "QuickBooks is not running (0x80040408)" in manager


# -- the users.info cache without Redis ------------------------------------------------


def test_without_redis_the_answer_is_cached_in_memory_by_the_runtime_clock(engine, fake_slack):
    fake_slack.add_token("xoxb-mem", team_id="T1")
    fake_slack.add_user("UADMIN", team_id="T1", is_admin=True)
    clock = ManualClock(T0)
    rt = Runtime.from_settings(
        make_settings(redis_url=None, slack_api_url=fake_slack.url), engine=engine, clock=clock
    )
    client = WebClient(token="xoxb-mem", base_url=fake_slack.url)

    def admin() -> bool:
        user = slack_user(rt, client, "T1", "UADMIN")
        assert user is not None
        return bool(user["is_admin"])

    try:
        assert rt.redis is None
        assert admin()
        fake_slack.add_user("UADMIN", team_id="T1")  # demoted
        assert admin()  # the cached answer
        assert len(fake_slack.calls("users.info")) == 1
        clock.advance(seconds=USER_CACHE_SECONDS)
        assert not admin()
        assert len(fake_slack.calls("users.info")) == 2
        assert slack_user(rt, client, "T1", "UNOBODY") is None  # failures are not cached
        assert slack_user(rt, client, "T1", "UNOBODY") is None
        assert len(fake_slack.calls("users.info")) == 4
    finally:
        assert isinstance(rt.jobs, InProcessJobQueue)
        rt.jobs.shutdown()  # the engine is the session's: not disposed here
