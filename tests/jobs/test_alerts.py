"""Health alerts: stale, QuickBooks errors, lockouts, parked deliveries — once, reminded, resolved.

Real SOAP sessions from the QBWC simulator, real PostgreSQL and Redis, RQ delivery to the
fake Slack. Time is the runtime's ManualClock: the tests move it, never sleep for it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from app.core.clock import ManualClock
from app.core.db import utcnow
from app.core.runtime import Runtime
from jobs.alerts import check_health
from jobs.enums import AlertKind, EventStatus
from jobs.models import Event, HealthAlert
from soap.simulator import FakeCompany, QBWCSimulator
from soap.simulator.machine import FakeMachine
from soap.simulator.qbwc_client import SessionReport
from tenants.managers import add_manager
from tenants.models import Connection, Tenant
from tenants.routes import set_route
from tests.fakes import FakeSlack
from tests.support.jobs import add_events, run_jobs
from tests.support.soap import Connected, connect, serving

DM = "UINSTALLER"  # the installer: where alerts go without an `alerts` route
PATH = r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\Acme.QBW"


@dataclass
class Watch:
    """One connected company file whose Web Connector the test plays, and its alerts."""

    runtime: Runtime
    url: str
    fake: FakeSlack
    clock: ManualClock
    machine: FakeMachine
    conn: Connected

    def poll(self, password: str | None = None) -> SessionReport:
        """One Web Connector session (the server stamps it with the test's clock's now)."""
        report = QBWCSimulator(
            self.url + "/qbwc",
            self.conn.username,
            password or self.conn.password,
            machine=self.machine,
        ).run()
        # The SOAP side stamps real time; line it up with the test's clock.
        with self.runtime.transaction() as db:
            db.execute(
                update(Connection)
                .where(Connection.id == self.conn.connection_id)
                .where(Connection.last_poll_at.is_not(None))
                .values(last_poll_at=self.clock.now())
            )
        return report

    def check(self) -> None:
        """What the workers' background loop does every 30 s, then deliveries."""
        check_health(self.runtime)
        run_jobs(self.runtime)

    def texts(self, channel: str = DM) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.fake.posts(channel)]

    def alerts(self) -> list[HealthAlert]:
        with self.runtime.transaction() as db:
            rows = list(db.scalars(select(HealthAlert).order_by(HealthAlert.id)))
            db.expunge_all()
        return rows


@pytest.fixture
def watch(live_runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Watch]:
    rt = live_runtime
    rt.settings = rt.settings.with_overrides(slack_post_interval=0.05)
    fake_slack.post_interval = 0.05
    clock = ManualClock(utcnow())
    rt.clock = clock
    conn = connect(rt, "T700", "Acme Books")
    fake_slack.add_token("xoxb-T700")
    machine = FakeMachine()
    company = FakeCompany("Acme Books LLC", clock=utcnow() - dt.timedelta(minutes=30))
    company.add_vendor("Acme Supplier")
    machine.add_file(PATH, company)
    machine.open(PATH)
    with serving(rt) as url:
        w = Watch(rt, url, fake_slack, clock, machine, conn)
        assert w.poll().ok
        run_jobs(rt)
        yield w


def test_a_web_connector_that_stops_raises_one_stale_alert_a_daily_reminder_and_resolves(
    watch: Watch,
) -> None:
    watch.clock.advance(minutes=14)  # the .qwc's 5 minutes: stale after 15
    watch.check()
    assert watch.texts() == []

    watch.clock.advance(minutes=2)
    watch.check()
    watch.check()  # a second run changes nothing
    texts = watch.texts()
    assert len(texts) == 1 and "Acme Books" in texts[0] and "16 min" in texts[0]
    alert = watch.fake.posts(DM)[0]
    body = str(alert.params["blocks"])
    assert "Auto-Run" in body and "Web Connector" in body and "asleep" in body

    watch.clock.advance(hours=23)
    watch.check()
    assert len(watch.texts()) == 1  # no reminder within a day

    watch.clock.advance(hours=2)
    watch.check()
    watch.check()
    posts = watch.fake.posts(DM)
    assert len(posts) == 2 and posts[1].params.get("thread_ts")  # one reminder, in the thread
    assert posts[1].params["text"].startswith("Still:")

    assert watch.poll().ok  # the PC is back
    watch.check()
    posts = watch.fake.posts(DM)
    assert len(posts) == 3 and "Resolved" in posts[2].params["text"]
    assert posts[2].params.get("thread_ts") == posts[1].params.get("thread_ts")
    # The alert itself now reads resolved, without its buttons.
    updates = [c for c in watch.fake.calls("chat.update") if c.params.get("channel") == DM]
    assert updates and str(updates[-1].params["text"]).startswith("Resolved:")
    [row] = watch.alerts()
    assert row.kind == AlertKind.STALE and row.resolved_at is not None


def test_alerts_go_to_the_alerts_route_never_into_an_event_channel(watch: Watch) -> None:
    with watch.runtime.transaction() as db:
        set_route(watch.conn.tenant_id, "alerts", "CALERTS", db_session=db)
    events_channel = watch.texts("CDEFAULT")
    watch.clock.advance(minutes=20)
    watch.check()
    assert len(watch.texts("CALERTS")) == 1
    assert watch.texts() == [] and watch.texts("CDEFAULT") == events_channel


def test_stale_after_minutes_overrides_the_interval_and_may_be_fractional(watch: Watch) -> None:
    watch.runtime.settings = watch.runtime.settings.with_overrides(stale_after_minutes=0.5)
    watch.clock.advance(seconds=20)
    watch.check()
    assert watch.texts() == []
    watch.clock.advance(seconds=15)
    watch.check()
    assert len(watch.texts()) == 1


def test_the_same_quickbooks_error_three_sessions_in_a_row_raises_one_alert(watch: Watch) -> None:
    watch.machine.close()  # QuickBooks is not running and the file is not bound by path
    with watch.runtime.transaction() as db:
        db.execute(
            update(Connection)
            .where(Connection.id == watch.conn.connection_id)
            .values(qb_file_path=None)
        )
    for _ in range(2):
        assert not watch.poll().ok
        watch.check()
    assert watch.texts() == []
    for _ in range(2):
        assert not watch.poll().ok
        watch.check()
    texts = watch.texts()
    assert len(texts) == 1 and "QuickBooks error" in texts[0] and "in a row" in texts[0]
    body = str(watch.fake.posts(DM)[0].params["blocks"])
    assert "0x80040" in body  # the HRESULT, beside the plain words

    watch.machine.open(PATH)
    assert watch.poll().ok
    watch.check()
    assert "Resolved" in watch.texts()[-1]


def test_a_locked_login_raises_one_alert_saying_from_where_with_a_reset_button(
    watch: Watch,
) -> None:
    for _ in range(12):
        watch.poll(password="not-the-password")
    watch.check()
    watch.check()
    [post] = watch.fake.posts(DM)
    blocks = str(post.params["blocks"])
    assert "locked" in post.params["text"] and "127.0.0.1" in blocks
    assert "'action_id': 'reset_password'" in blocks
    assert f"'value': '{watch.conn.connection_id}'" in blocks

    # Locked again and again within the hour: still the one alert.
    watch.clock.advance(minutes=20)
    for _ in range(12):
        watch.poll(password="not-the-password")
    watch.check()
    assert len(watch.fake.posts(DM)) == 1


def test_parked_and_unrouted_events_raise_alerts_with_their_fixes(watch: Watch) -> None:
    ws = {"tenant_id": watch.conn.tenant_id, "connection_ids": [watch.conn.connection_id]}
    ids = add_events(watch.runtime, ws, [{"ref_number": "B-1"}, {"ref_number": "B-2"}])
    with watch.runtime.transaction() as db:
        db.execute(
            update(Event)
            .where(Event.id == ids[0])
            .values(
                status=EventStatus.FAILED, channel_id="CAP", last_error="the channel is archived"
            )
        )
        db.execute(update(Event).where(Event.id == ids[1]).values(status=EventStatus.UNROUTED))
    watch.check()
    posts = {str(p.params["text"]): str(p.params["blocks"]) for p in watch.fake.posts(DM)}
    failed = next(b for t, b in posts.items() if "could not be posted" in t)
    assert "<#CAP>" in failed and "archived" in failed
    assert "replay_failed" in failed and "edit_routes" in failed
    unrouted = next(b for t, b in posts.items() if "no channel" in t)
    assert "edit_routes" in unrouted and "bill" in unrouted

    with watch.runtime.transaction() as db:
        db.execute(update(Event).where(Event.id.in_(ids)).values(status=EventStatus.POSTED))
    watch.check()
    assert sum("Resolved" in t for t in watch.texts()) == 2


def test_many_checkers_at_once_open_one_alert(watch: Watch) -> None:
    watch.clock.advance(hours=1)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def checker() -> None:
        try:
            barrier.wait()
            check_health(watch.runtime)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=checker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    run_jobs(watch.runtime)
    assert len(watch.fake.posts(DM)) == 1
    assert len(watch.alerts()) == 1


def test_a_disconnected_workspace_gets_no_message_but_the_log(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    with watch.runtime.transaction() as db:
        db.execute(
            update(Tenant).where(Tenant.id == watch.conn.tenant_id).values(status="disconnected")
        )
    watch.clock.advance(hours=1)
    watch.check()
    assert watch.fake.posts(DM) == []
    assert "health alert slack_disconnected opened for Acme Books" in caplog.text
    [row] = watch.alerts()
    assert row.kind == AlertKind.SLACK_DISCONNECTED


def test_managers_a_manager_added_get_their_own_dm_without_an_alerts_route(watch: Watch) -> None:
    with watch.runtime.transaction() as db:
        add_manager(watch.conn.tenant_id, "UBOOKKEEPER", added_by="UINSTALLER", db_session=db)
    watch.clock.advance(minutes=20)
    watch.check()
    assert len(watch.texts()) == 1 and len(watch.texts("UBOOKKEEPER")) == 1
    assert watch.poll().ok
    watch.check()
    for person in (DM, "UBOOKKEEPER"):
        opened, resolved = watch.fake.posts(person)
        assert "Resolved" in resolved.params["text"] and resolved.params.get("thread_ts")

    with watch.runtime.transaction() as db:  # with an alerts channel: one message there
        set_route(watch.conn.tenant_id, "alerts", "CALERTS", db_session=db)
    watch.clock.advance(minutes=20)
    watch.check()
    assert len(watch.texts("CALERTS")) == 1 and len(watch.texts("UBOOKKEEPER")) == 2
