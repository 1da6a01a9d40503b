"""What a repeat no-change poll costs: counted round trips (never timed)."""

from __future__ import annotations

from redis import Connection, ConnectionPool, Redis
from sqlalchemy import event

from app.core.runtime import Runtime
from soap.qbtime import window_start
from soap.simulator import FakeCompany, QBWCSimulator
from tenants.routes import set_route
from tests.conftest import TEST_REDIS_URL
from tests.support.soap import connect, serving, watermarks


class CountingConnection(Connection):
    """A Redis connection that counts what it sends (a pipeline or script is one send)."""

    sent = 0

    def send_packed_command(self, command, check_health=True):
        CountingConnection.sent += 1
        return super().send_packed_command(command, check_health)  # type: ignore[no-untyped-call]


def test_a_repeat_no_change_poll_makes_two_statements_and_six_redis_round_trips(
    committed_runtime,
):
    pool = ConnectionPool.from_url(TEST_REDIS_URL, connection_class=CountingConnection)
    rt = Runtime.from_settings(
        committed_runtime.settings,
        engine=committed_runtime.engine,
        redis=Redis(connection_pool=pool),
    )
    c = connect(rt)
    company = FakeCompany()  # nothing in it: every query answers "no match"
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    with serving(rt) as base:
        url = base + "/qbwc"
        for _ in range(2):  # the first sync, then a poll that verifies the login (scrypt)
            assert QBWCSimulator(url, c.username, c.password, company).run().ok
        event.listen(rt.engine, "before_cursor_execute", count)
        sent = CountingConnection.sent
        try:
            report = QBWCSimulator(url, c.username, c.password, company).run()
        finally:
            event.remove(rt.engine, "before_cursor_execute", count)
        sent = CountingConnection.sent - sent
    pool.disconnect()
    assert report.ok and report.progress == [100]
    # authenticate: the login with the plan's inputs; receiveResponseXML: the status UPDATE.
    assert statements == ["SELECT", "UPDATE"]
    # authenticate opens the ticket; send and receive each load and save it; close ends it.
    # Logins and Web Connector versions are answered from this process's memory.
    assert sent == 6


def test_a_repeat_poll_asks_from_its_watermarks_and_for_newly_routed_types(live_server):
    """The repeat-poll shortcut reads the plan's inputs with the login: the same plan."""
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany()
    company.add_vendor("Acme Supply Co")
    company.add_account("Rent", "Expense")
    for _ in range(2):  # the first sync, then a poll that verifies the login (scrypt)
        assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    repeat = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert repeat.ok and "AccountQueryRq" not in repeat.requests[0]
    mark = watermarks(rt, c.connection_id)["vendor"]
    assert f"<FromModifiedDate>{window_start(mark)}</FromModifiedDate>" in repeat.requests[0]
    with rt.transaction() as db:
        set_route(c.tenant_id, "account", "CACCOUNTS", connection_id=c.connection_id, db_session=db)
    routed = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert routed.ok and "AccountQueryRq" in routed.requests[0]
