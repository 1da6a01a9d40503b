"""`/qb-replay` shows what it would post and waits for Replay; a reference that names
several objects lists them; `help` answers the grammar. Over HTTP, with signed payloads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from jobs.enums import EventStatus
from jobs.models import Event
from tenants import service
from tenants.models import Tenant
from tenants.routes import set_route
from tests.app.slack.clicks import buttons, ephemeral_click, response
from tests.support.slack import SlackHarness

AFTER = dt.datetime(2026, 11, 3, 12, 0, tzinfo=dt.UTC)
BEFORE = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)


def company(slack: SlackHarness, name: str) -> int:
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant).where(Tenant.team_id == "T1")).one()
        service.add_connection(tenant, name, db_session=db)
    return next(c.id for c in slack.connections() if c.company_name == name)


def event(
    slack: SlackHarness,
    conn_id: int,
    object_id: str,
    status: str,
    created: dt.datetime = AFTER,
    *,
    object_type: str = "Bill",
    event_type: str = "bill",
    ref: str | None = None,
    amount: str | None = None,
) -> None:
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant).where(Tenant.team_id == "T1")).one()
        db.add(
            Event(
                tenant_id=tenant.id,
                connection_id=conn_id,
                event_type=event_type,
                action="created",
                object_type=object_type,
                object_id=object_id,
                edit_sequence="1",
                ref_number=ref,
                amount=amount,
                counterparty="Acme Supply",
                payload={"txn_date": "2026-11-02"},
                status=status,
                created_at=created,
                sort_key=created,
            )
        )


def statuses(slack: SlackHarness) -> dict[str, str]:
    with slack.runtime.transaction() as db:
        return {e.object_id: e.status for e in db.scalars(select(Event))}


def route_default(slack: SlackHarness) -> None:
    with slack.runtime.transaction() as db:
        tenant = db.scalars(select(Tenant).where(Tenant.team_id == "T1")).one()
        set_route(tenant.id, "default", "C0DEFAULT1", db_session=db)


def two_clients(slack: SlackHarness) -> tuple[int, int]:
    """Client A and Client B, each with events before and after 2026-11-01."""
    route_default(slack)
    a, b = company(slack, "Client A"), company(slack, "Client B")
    event(slack, a, "A-FAILED", EventStatus.FAILED)
    event(slack, a, "A-UNROUTED", EventStatus.UNROUTED, object_type="Invoice", event_type="invoice")
    event(slack, a, "A-POSTED", EventStatus.POSTED)
    event(slack, a, "A-OLD", EventStatus.FAILED, BEFORE)
    event(slack, b, "B-FAILED", EventStatus.FAILED)
    return a, b


def command(slack: SlackHarness, text: str, *, user: str = "UADMIN") -> dict[str, Any]:
    """Run /qb-replay; the answer sent to its response_url."""
    count = len(slack.fake.calls("response.hook")) + 1
    slack.command("/qb-replay", text, user=user)
    return response(slack, count)


def click(
    slack: SlackHarness, message: dict[str, Any], action_id: str, n: int = 0, **kw: Any
) -> dict[str, Any]:
    """Click a button of an ephemeral answer; what the click answered."""
    count = len(slack.fake.calls("response.hook")) + 1
    ephemeral_click(slack, action_id, buttons(message)[action_id][n]["value"], **kw)
    return response(slack, count)


def test_since_a_date_for_one_company_previews_then_replays_only_that(installed):
    slack = installed
    two_clients(slack)
    before = statuses(slack)
    preview = command(slack, "since 2026-11-01 Client A")
    text = str(preview["blocks"])
    assert "2 events of *Client A* since 2026-11-01: 1 bill, 1 invoice." in text
    assert "1 event already posted since 2026-11-01 is left out" in text
    assert "`/qb-replay since 2026-11-01 all Client A`" in text
    assert set(buttons(preview)) == {"replay_confirm", "replay_cancel"}
    assert statuses(slack) == before  # nothing happens before the click
    done = click(slack, preview, "replay_confirm")
    assert (
        done["replace_original"]
        and "Queued 2 events of *Client A* since 2026-11-01" in (done["text"])
    )
    assert statuses(slack) == dict(
        before, **{"A-FAILED": EventStatus.PENDING, "A-UNROUTED": EventStatus.PENDING}
    )  # not A's posted one, not A's older one, nothing of Client B


def test_since_all_reposts_the_posted_ones_too(installed):
    slack = installed
    two_clients(slack)
    preview = command(slack, "since 2026-11-01 all Client A")
    assert "3 events of *Client A* since 2026-11-01, posted ones included" in preview["text"]
    assert "left out" not in str(preview["blocks"])
    click(slack, preview, "replay_confirm")
    got = statuses(slack)
    assert [got[k] for k in ("A-FAILED", "A-UNROUTED", "A-POSTED")] == [EventStatus.PENDING] * 3
    assert got["A-OLD"] == got["B-FAILED"] == EventStatus.FAILED
    # `all` may also come last, and a workspace-wide preview names every company file.
    preview = command(slack, "since 2026-11-01 Client B all")
    assert "1 event of *Client B* since 2026-11-01, posted ones included" in preview["text"]
    preview = command(slack, "since 2026-10-01")
    assert "2 events of every company file since 2026-10-01: 2 bills" in preview["text"]


def test_a_company_named_all_is_a_company(installed):
    slack = installed
    route_default(slack)
    stars = company(slack, "All Stars")
    event(slack, stars, "S-1", EventStatus.POSTED)
    preview = command(slack, "since 2026-11-01 All Stars")
    assert "Nothing to post again: no event of *All Stars* since 2026-11-01" in preview["text"]
    assert "1 event already posted" in preview["text"]
    preview = command(slack, "since 2026-11-01 all All Stars")
    assert "1 event of *All Stars* since 2026-11-01, posted ones included" in preview["text"]


def test_failed_previews_and_cancel_does_nothing(installed):
    slack = installed
    two_clients(slack)
    before = statuses(slack)
    preview = command(slack, "failed")
    assert "4 events of every company file that failed or wait for a channel" in preview["text"]
    assert "3 bills, 1 invoice" in preview["text"]
    done = click(slack, preview, "replay_cancel")
    assert done["replace_original"] and "Cancelled: nothing was posted again" in done["text"]
    assert statuses(slack) == before
    preview = command(slack, "failed client b")  # any case
    assert "1 event of *Client B* that failed" in preview["text"]
    click(slack, preview, "replay_confirm")
    assert statuses(slack) == dict(before, **{"B-FAILED": EventStatus.PENDING})


def test_the_replay_click_is_checked_again(installed):
    slack = installed
    a, _ = two_clients(slack)
    before = statuses(slack)
    preview = command(slack, "failed Client A")
    # Another user (or a forged value) cannot use this preview.
    slack.fake.add_user("UADMIN2", team_id="T1", is_admin=True)
    assert "too old or not yours" in click(slack, preview, "replay_confirm", user="UADMIN2")["text"]
    count = len(slack.fake.calls("response.hook")) + 1
    ephemeral_click(slack, "replay_confirm", "forged.value")
    assert "too old or not yours" in response(slack, count)["text"]
    assert statuses(slack) == before
    # Changes that arrive after the preview were not in it: not replayed.
    event(slack, a, "A-LATER", EventStatus.FAILED)
    done = click(slack, preview, "replay_confirm")
    assert "Queued 3 events of *Client A*" in done["text"]
    assert statuses(slack)["A-LATER"] == EventStatus.FAILED
    # Clicked again: the same selection holds nothing any more.
    again = click(slack, preview, "replay_confirm")
    assert "Nothing to post again any more" in again["text"]


def test_a_manager_no_more_cannot_replay_from_an_old_preview(installed):
    slack = installed
    two_clients(slack)
    slack.fake.add_user("UINSTALLER", team_id="T1")  # the installer: a manager as a member
    preview = command(slack, "failed", user="UINSTALLER")
    before = statuses(slack)
    with slack.runtime.transaction() as db:  # another installer now: UINSTALLER is not one
        tenant = db.scalars(select(Tenant).where(Tenant.team_id == "T1")).one()
        assert tenant.installation is not None
        tenant.installation.installer_user_id = "USOMEONE"
    done = click(slack, preview, "replay_confirm", user="UINSTALLER")
    assert "only qbslack managers" in done["text"]
    assert statuses(slack) == before


def test_an_ambiguous_reference_lists_the_matches_to_choose_from(installed):
    slack = installed
    route_default(slack)
    a, b = company(slack, "Client A"), company(slack, "Client B")
    event(
        slack,
        a,
        "TXN-A",
        EventStatus.POSTED,
        ref="INV-77",
        amount="1250",
        object_type="Invoice",
        event_type="invoice",
    )
    event(
        slack,
        b,
        "TXN-B",
        EventStatus.POSTED,
        ref="INV-77",
        amount="99.5",
        object_type="Invoice",
        event_type="invoice",
    )
    listing = command(slack, "INV-77")
    text = str(listing["blocks"])
    assert "`INV-77` names 2 different QuickBooks objects" in text
    assert "*Client A* · invoice INV-77 · 2026-11-02 · 1,250.00 · Acme Supply" in text
    assert "*Client B* · invoice INV-77 · 2026-11-02 · 99.50 · Acme Supply" in text
    assert statuses(slack) == {"TXN-A": EventStatus.POSTED, "TXN-B": EventStatus.POSTED}
    picks = buttons(listing)["replay_pick"]
    assert len(picks) == 2  # newest first: Client B's was received last
    done = click(slack, listing, "replay_pick", 0)
    assert "Queued to post again: *Client B* · invoice INV-77" in done["text"]
    assert statuses(slack) == {"TXN-A": EventStatus.POSTED, "TXN-B": EventStatus.PENDING}
    # Naming the company picks it at once.
    answer = command(slack, "INV-77 Client A")
    assert "Queued 1 event to post again: *Client A* · invoice INV-77" in answer["text"]
    assert statuses(slack) == {"TXN-A": EventStatus.PENDING, "TXN-B": EventStatus.PENDING}
    assert "on its way to Slack already" in command(slack, "INV-77 Client A")["text"]
    # Someone else's pick button is refused.
    other = click(slack, listing, "replay_pick", 0, user="UMEMBER")
    assert "too old or not yours" in other["text"]


def test_unknown_references_and_companies_get_help(installed):
    slack = installed
    route_default(slack)
    a = company(slack, "Client A")
    event(slack, a, "TXN-1", EventStatus.POSTED, ref="INV 77")
    assert "No event found for `INV-1`" in command(slack, "INV-1")["text"]
    assert (
        "No company named `Client Z`. Did you mean `Client A`?"
        in (command(slack, "INV-1 Client Z")["text"])
    )
    # A reference with a space, when the words after it name no company file.
    assert "Queued 1 event" in command(slack, "INV 77")["text"]
    assert "No company named `Nobody`" in command(slack, "since 2026-11-01 Nobody")["text"]


def test_help_answers_the_grammar_with_examples_for_everyone(installed):
    slack = installed
    for text in ("help", "HELP", ""):
        answer = command(slack, text, user="UMEMBER")["text"]
        assert "`/qb-replay since YYYY-MM-DD [all] [company]`" in answer
        assert "Examples:" in answer and "`/qb-replay INV-77 Client A`" in answer
    count = len(slack.fake.calls("response.hook")) + 1
    slack.command("/qb-routes", "help", user="UMEMBER")
    answer = response(slack, count)["text"]
    assert "`/qb-routes set <event-type> <#channel> [company]`" in answer
    assert "Examples:" in answer and "`/qb-routes set bill #ap`" in answer
    assert not slack.fake.calls("views.open")
