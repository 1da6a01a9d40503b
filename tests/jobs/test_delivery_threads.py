"""Threads: later events about an object reply to its first message, which shows its state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.runtime import Runtime
from jobs import outbox
from jobs.enums import EventStatus
from jobs.models import SlackThread
from jobs.replay import replay_object
from tests.support.jobs import add_events, events, run_jobs, seed_workspace, speed_up


def deliver(rt: Runtime, ws: dict[str, Any], specs: list[dict[str, Any]]) -> list[int]:
    ids = add_events(rt, ws, specs)
    outbox.schedule_events(rt, ids)
    run_jobs(rt)
    return ids


def test_updates_deletions_and_payments_thread_under_the_object(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack)
    first = deliver(
        rt,
        ws,
        [
            {
                "object_id": "BILL-1",
                "ref_number": "77",
                "amount": "100.00",
                "payload": {"open_amount": "100.00"},
            }
        ],
    )
    parent_ts = events(rt, first)[0].slack_ts
    later = deliver(
        rt,
        ws,
        [
            {
                "object_id": "BILL-1",
                "ref_number": "77",
                "action": "updated",
                "edit_sequence": "2",
                "amount": "100.00",
                "payload": {"memo": "new memo", "open_amount": "100.00"},
            },
            {
                "object_id": "PAY-1",
                "object_type": "BillPaymentCheck",
                "event_type": "bill_payment",
                "amount": "100.00",
                "payload": {
                    "applied_to": [
                        {
                            "txn_id": "BILL-1",
                            "txn_type": "Bill",
                            "ref_number": "77",
                            "amount": "100.00",
                            "balance_remaining": "0.00",
                        }
                    ]
                },
            },
            {
                "object_id": "BILL-1",
                "action": "deleted",
                "edit_sequence": "deleted:x",
                "name": None,
                "amount": None,
                "payload": {"name": None, "amount": None},
            },
        ],
    )
    replies = fake_slack.posts()[1:]
    assert [p.params.get("thread_ts") for p in replies] == [parent_ts] * 3
    assert [e.thread_ts for e in events(rt, later)] == [parent_ts] * 3
    assert replies[0].params["text"].startswith("Bill updated from Acme Supply · #77")
    assert replies[1].params["text"].startswith("Bill paid to Acme Supply")
    # The deletion record carries no name or amount: taken from the bill's earlier events.
    assert replies[2].params["text"] == "Bill deleted from Acme Supply · #77 · 100.00"
    updates = fake_slack.calls("chat.update")
    assert [u.params["ts"] for u in updates] == [parent_ts] * 3
    headers = [u.params["blocks"][0]["text"]["text"] for u in updates]
    assert headers == ["Bill · Updated", "Bill · Paid", "Bill · Deleted"]
    assert "new memo" in str(updates[0].params["blocks"])  # an edit shows the new content
    assert "Open balance" not in str(updates[1].params["blocks"])
    parent = fake_slack.messages[("CDEFAULT", parent_ts)]
    assert parent["blocks"][0]["text"]["text"] == "Bill · Deleted"
    with rt.transaction() as db:
        (thread,) = db.scalars(select(SlackThread)).all()
        assert (thread.object_id, thread.parent_ts, thread.state) == (
            "BILL-1",
            parent_ts,
            "Deleted",
        )


def test_partial_payments_without_balance_from_quickbooks(slack_runtime, fake_slack):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack)
    invoice = deliver(
        rt,
        ws,
        [
            {
                "object_id": "INV-9",
                "object_type": "Invoice",
                "event_type": "invoice",
                "ref_number": "9",
                "amount": "300",
            }
        ],
    )
    payment = {"object_type": "ReceivePayment", "event_type": "payment_received", "amount": "150"}

    def pay(object_id: str) -> list[int]:
        return deliver(
            rt,
            ws,
            [
                {
                    **payment,
                    "object_id": object_id,
                    "payload": {
                        "applied_to": [{"txn_id": "INV-9", "txn_type": "Invoice", "amount": "150"}]
                    },
                }
            ],
        )

    pay("RP-1")
    pay("RP-2")
    parent_ts = events(rt, invoice)[0].slack_ts
    headers = [u.params["blocks"][0]["text"]["text"] for u in fake_slack.calls("chat.update")]
    assert headers == ["Invoice · Partially paid", "Invoice · Paid"]
    assert [p.params.get("thread_ts") for p in fake_slack.posts()[1:]] == [parent_ts] * 2
    assert "Open balance 150.00" in str(fake_slack.calls("chat.update")[0].params["blocks"])


def test_payments_for_unposted_bills_and_replayed_parents_post_new_messages(
    slack_runtime, fake_slack
):
    rt = slack_runtime
    speed_up(rt, fake_slack)
    ws = seed_workspace(rt, fake_slack)
    deliver(
        rt,
        ws,
        [
            {
                "object_id": "PAY-X",
                "object_type": "BillPaymentCheck",
                "event_type": "bill_payment",
                "payload": {"applied_to": [{"txn_id": "NEVER-EventStatus.POSTED", "amount": "5"}]},
            }
        ],
    )
    assert fake_slack.posts()[0].params.get("thread_ts") is None
    first = deliver(rt, ws, [{"object_id": "BILL-2", "ref_number": "88"}])
    with rt.transaction() as db:
        again = replay_object(ws["tenant_id"], "BILL-2", db_session=db)
    assert again == first
    outbox.schedule_events(rt, again)
    run_jobs(rt)
    (event,) = events(rt, first)
    original, replayed = fake_slack.posts()[1:]
    assert replayed.params.get("thread_ts") is None  # a new message, not a reply
    assert event.status == EventStatus.POSTED and event.slack_ts == replayed.response["ts"]
    assert event.slack_ts != original.response["ts"]
    assert "re-posted" in str(replayed.params["blocks"])
