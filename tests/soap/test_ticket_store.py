"""The ticket store, with Redis and in process (the embedded default): same behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import pytest

from soap.plan import EntityProgress, EntityState, Plan
from soap.tickets import Ticket, TicketState, TicketStore

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack is 3.12+; only mypy reads it here


@pytest.fixture(params=["redis", "in-process"])
def store(request, redis_conn) -> TicketStore:
    return TicketStore(redis_conn if request.param == "redis" else None)


class _TicketExtras(TypedDict, total=False):
    """The Ticket fields these tests set beyond the ones _ticket() always fills."""

    plan: Plan | None
    requests_sent: int


def _ticket(hash_: str, connection_id: int = 1, **more: Unpack[_TicketExtras]) -> Ticket:
    return Ticket(
        hash=hash_,
        connection_id=connection_id,
        tenant_id=7,
        username="qb-x",
        state=TicketState.AUTHENTICATED,
        **more,
    )


def _plan() -> Plan:
    return Plan(
        version="13.0",
        baseline=False,
        backfill=False,
        company_file="C:\\Books\\a.qbw",
        company_name=None,
        ask_company=True,
        opt_in=["account"],
        entities={
            "bill": EntityProgress("2024-05-01T09:00:00", iterator="{GUID}", restarts=1),
            "vendor": EntityProgress(
                "2024-05-01T09:00:00",
                state=EntityState.FAILED,
                max_modified="2024-05-02T10:00:00-07:00",
                error="Vendor: QuickBooks gave no iterator",
            ),
        },
        sent=["bill"],
    )


def test_a_ticket_round_trips_whole(store):
    t = _ticket("h1", plan=_plan(), requests_sent=3)
    store.open(t)
    loaded = store.load("h1")
    assert loaded == t
    assert loaded is not None and loaded.plan is not None
    assert type(loaded.state) is TicketState
    assert type(loaded.plan.entities["vendor"].state) is EntityState
    assert store.load("unknown") is None


def test_a_new_login_ends_the_connections_previous_ticket_only(store):
    store.open(_ticket("old", connection_id=1))
    store.open(_ticket("other", connection_id=2))
    store.open(_ticket("new", connection_id=1))
    assert store.load("old") is None
    assert store.load("new") is not None and store.load("other") is not None


def test_save_keeps_changes_but_never_revives_an_ended_ticket(store):
    t = _ticket("h2")
    store.open(t)
    t.state, t.events_created = TicketState.DONE, 5
    assert store.save(t) is True
    assert store.load("h2").events_created == 5
    ended = store.close("h2")
    assert ended is not None and ended.state == TicketState.DONE
    assert store.close("h2") is None
    assert store.save(t) is False and store.load("h2") is None
    replaced = _ticket("h3", connection_id=9)
    store.open(replaced)
    store.open(_ticket("h4", connection_id=9))
    assert store.save(replaced) is False and store.load("h3") is None


def test_tickets_expire(redis_conn):
    store = TicketStore(None, ttl=0)  # in process: a zero lifetime is over at once
    store.open(_ticket("h5"))
    assert store.load("h5") is None and store.close("h5") is None
    shared = TicketStore(redis_conn)
    shared.open(_ticket("h6"))
    assert 0 < redis_conn.ttl("qbslack:qbwc:ticket:h6") <= 30 * 60


def test_a_ticket_another_release_wrote_ends_its_session_cleanly(redis_conn):
    store = TicketStore(redis_conn)
    redis_conn.set("qbslack:qbwc:ticket:h7", '{"hash": "h7", "field_of_the_future": 1}')
    redis_conn.set("qbslack:qbwc:ticket:h8", "not json")
    good = _ticket("h9", plan=_plan()).dumps()
    # A plan or state another release wrote: unreadable too, never half read.
    redis_conn.set("qbslack:qbwc:ticket:h9", good.replace('"window_from"', '"from"'))
    redis_conn.set("qbslack:qbwc:ticket:h10", good.replace('"failed"', '"gave_up"'))
    redis_conn.set("qbslack:qbwc:ticket:h11", good.replace('"authenticated"', '"paused"'))
    redis_conn.set("qbslack:qbwc:ticket:h12", "[1, 2]")
    for key in ("h7", "h8", "h9", "h10", "h11", "h12"):
        assert store.load(key) is None, key
    assert store.close("h7") is None
