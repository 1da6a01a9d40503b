"""Each connection is bound to its company file: an accounting firm's PC with many clients' files.

Real HTTP SOAP against the app, the QBWC simulator on a fake Windows machine (several company
files, one open at a time or QuickBooks closed), delivery through RQ to the fake Slack.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.cli import main
from app.core.runtime import Runtime
from jobs.alerts import check_health
from jobs.enums import EventAction
from jobs.models import Event
from soap.simulator import FakeCompany, QBWCSimulator
from soap.simulator.machine import FakeMachine
from soap.simulator.qbwc_client import SessionReport
from tenants.enums import ConnectionStatus
from tenants.qwc import OWNER_ID, build_qwc
from tenants.routes import set_route
from tests.conftest import METRICS_AUTH
from tests.fakes import FakeSlack
from tests.support.jobs import run_jobs
from tests.support.qbxml_schema import assert_valid_qbxml
from tests.support.soap import Connected, connect, connection, serving

FILES = r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files"
A_PATH, B_PATH = rf"{FILES}\Client A.QBW", rf"{FILES}\Client B.QBW"


@dataclass
class Firm:
    """Two clients' files on one PC, both connected to one workspace, routed apart."""

    runtime: Runtime
    url: str
    fake: FakeSlack
    machine: FakeMachine
    a: Connected
    b: Connected

    def session(self, who: Connected) -> SessionReport:
        """One scheduled run of that company's Web Connector entry, a health check, deliveries."""
        report = QBWCSimulator(
            self.url + "/qbwc", who.username, who.password, machine=self.machine
        ).run()
        check_health(self.runtime)  # what the workers' background loop runs every 30 s
        run_jobs(self.runtime)
        return report

    def company(self, path: str) -> FakeCompany:
        return self.machine.files[path]

    def posted_refs(self, channel: str) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.fake.posts(channel)]


def _qwc(runtime: Runtime, who: Connected) -> str:
    return build_qwc(
        connection(runtime, who.connection_id),
        public_url=runtime.settings.public_url,
        run_every_minutes=5,
    )


def _company(name: str) -> FakeCompany:
    co = FakeCompany(name, clock=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30))
    co.add_vendor(f"{name} Supplier")
    return co


@pytest.fixture
def firm(live_runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Firm]:
    rt = live_runtime
    rt.settings = rt.settings.with_overrides(slack_post_interval=0.05)
    fake_slack.post_interval = 0.05
    a = connect(rt, "T100", "Client A", baseline_done=False)
    b = connect(rt, "T100", "Client B", baseline_done=False)
    fake_slack.add_token("xoxb-T100")
    with rt.transaction() as db:
        # Each client's own channel; the workspace's default channel (CDEFAULT) stays too.
        set_route(a.tenant_id, "bill", "CA", connection_id=a.connection_id, db_session=db)
        set_route(b.tenant_id, "bill", "CB", connection_id=b.connection_id, db_session=db)
    machine = FakeMachine()
    machine.add_file(A_PATH, _company("Client A Books"))
    machine.add_file(B_PATH, _company("Client B Books"))
    with serving(rt) as url:
        f = Firm(rt, url, fake_slack, machine, a, b)
        # The admin adds each .qwc with its file open, then each first sync binds.
        for who, path in ((a, A_PATH), (b, B_PATH)):
            machine.open(path)
            machine.add_qwc(_qwc(rt, who))
            assert f.session(who).ok
        yield f


def _new_bill(f: Firm, path: str, ref: str) -> None:
    co = f.company(path)
    co.advance(60)
    co.add_bill(f"{co.name} Supplier", "1250.00", ref_number=ref)


def _events(rt: Runtime, who: Connected) -> list[Event]:
    with rt.transaction() as db:
        rows = list(db.scalars(select(Event).where(Event.connection_id == who.connection_id)))
        db.expunge_all()
    return rows


def test_first_sync_binds_each_connection_to_its_file(firm: Firm) -> None:
    rt = firm.runtime
    for who, path, name in ((firm.a, A_PATH, "Client A Books"), (firm.b, B_PATH, "Client B Books")):
        conn = connection(rt, who.connection_id)
        assert conn.bound_at is not None and conn.qb_file_path == path
        assert conn.bound_company == name and conn.bound_file_id == conn.file_id
        assert firm.company(path).data_ext[(OWNER_ID.upper(), "FileID")] == conn.file_id


def test_the_wrong_file_open_posts_nothing_and_the_right_one_later_posts_once(firm: Firm) -> None:
    rt, a, b = firm.runtime, firm.a, firm.b
    firm.machine.open(B_PATH)  # the bookkeeper works on Client B
    _new_bill(firm, A_PATH, "A-100")
    _new_bill(firm, B_PATH, "B-200")
    before = {ch: len(firm.fake.posts(ch)) for ch in ("CA", "CB", "CDEFAULT")}

    report = firm.session(a)  # A's scheduled run, with B's file open
    assert not report.ok and report.company_file == B_PATH
    assert report.last_error is not None
    assert "Client B Books" in report.last_error and "Client A Books" in report.last_error
    conn = connection(rt, a.connection_id)
    assert conn.status == ConnectionStatus.WRONG_FILE
    assert (conn.open_company, conn.open_file_path) == ("Client B Books", B_PATH)
    assert conn.qb_file_path == A_PATH  # still bound to A's file
    # Nothing of B's books became A's: no event but the managers' alert, no post anywhere.
    assert not [e for e in _events(rt, a) if "B-200" in str(e.payload)]
    assert {ch: len(firm.fake.posts(ch)) for ch in before} == before
    alerts = firm.fake.posts("UINSTALLER")
    assert len(alerts) == 1 and "Client B Books" in str(alerts[0].params["text"])

    scrape = urllib.request.Request(firm.url + "/metrics", headers=METRICS_AUTH)
    with urllib.request.urlopen(scrape) as resp:
        assert 'qbslack_connections{status="wrong_company_file"} 1.0' in resp.read().decode()

    firm.session(a)  # again with B open: still wrong, no second alert
    assert len(firm.fake.posts("UINSTALLER")) == 1

    assert firm.session(b).ok  # B's own run posts B's bill, in B's channel only
    assert len([t for t in firm.posted_refs("CB") if "B-200" in t]) == 1
    assert not [t for ch in ("CA", "CDEFAULT") for t in firm.posted_refs(ch) if "B-200" in t]

    firm.machine.open(A_PATH)  # back on Client A: the change made meanwhile, exactly once
    assert firm.session(a).ok
    assert len([t for t in firm.posted_refs("CA") if "A-100" in t]) == 1
    assert not [t for ch in ("CB", "CDEFAULT") for t in firm.posted_refs(ch) if "A-100" in t]
    assert connection(rt, a.connection_id).status == ConnectionStatus.OK
    assert firm.session(a).ok
    assert len([t for t in firm.posted_refs("CA") if "A-100" in t]) == 1


def test_quickbooks_closed_the_bound_file_is_opened_by_path(firm: Firm) -> None:
    firm.machine.close()
    _new_bill(firm, A_PATH, "A-300")
    report = firm.session(firm.a)
    assert report.ok and report.auth_result == A_PATH and report.company_file == A_PATH
    assert_valid_qbxml(report.requests[0])
    assert f"<OwnerID>{OWNER_ID}</OwnerID>" in report.requests[0]
    assert len([t for t in firm.posted_refs("CA") if "A-300" in t]) == 1


def test_a_moved_file_keeps_posting_and_records_its_new_path(firm: Firm) -> None:
    moved = rf"{FILES}\Archive\Client A 2026.QBW"
    firm.machine.move(A_PATH, moved)
    firm.machine.open(moved)  # the bookkeeper opens it where it is now
    _new_bill(firm, A_PATH if A_PATH in firm.machine.files else moved, "A-400")
    report = firm.session(firm.a)  # QBWC cannot open the old path, then tries the open file
    assert report.ok and report.company_file == moved
    conn = connection(firm.runtime, firm.a.connection_id)
    assert conn.qb_file_path == moved and conn.status == ConnectionStatus.OK
    assert len([t for t in firm.posted_refs("CA") if "A-400" in t]) == 1
    firm.machine.close()  # from now on the new path is named, even with QuickBooks closed
    report = firm.session(firm.a)
    assert report.ok and report.auth_result == moved
    assert not firm.fake.posts("UINSTALLER")  # a move is no alert


def test_a_missing_file_with_quickbooks_closed_ends_with_done(firm: Firm) -> None:
    firm.machine.close()
    firm.machine.move(A_PATH, rf"{FILES}\elsewhere.QBW")
    report = firm.session(firm.a)
    assert not report.ok and report.connection_errors == ["", "done"]
    conn = connection(firm.runtime, firm.a.connection_id)
    assert conn.status == ConnectionStatus.ERROR and conn.qb_file_path == A_PATH


def test_the_cli_rebinds_to_the_file_found_open(
    firm: Firm, cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    firm.machine.open(B_PATH)
    firm.session(firm.a)
    assert main(["rebind", "T100", "--company", "Client A"]) == 0
    conn = connection(firm.runtime, firm.a.connection_id)
    assert (conn.bound_company, conn.qb_file_path) == ("Client B Books", B_PATH)
    assert conn.status == ConnectionStatus.OK
    assert firm.session(firm.a).ok  # B's file is now accepted as A's (the manager's choice)
    assert main(["rebind", "T100", "--company", "Client A"]) == 1  # nothing open to bind to
    capsys.readouterr()
    assert main(["tenants"]) == 0
    files = {
        line["company"]: line["company_file"]
        for line in map(json.loads, capsys.readouterr().out.splitlines())
    }
    assert files == {"Client A": B_PATH, "Client B": B_PATH}


def test_old_web_connector_without_data_extension_binds_by_name(
    live_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    rt = live_runtime
    one = connect(rt, "T200", "Solo Books", baseline_done=False)
    fake_slack.add_token("xoxb-T200")
    machine = FakeMachine()
    machine.add_file(A_PATH, _company("Solo Books LLC"))
    machine.add_file(B_PATH, _company("Someone Else Inc"))
    machine.open(A_PATH)  # no add_qwc: QBWC 1.x wrote no FileID
    with serving(rt) as url:

        def run() -> SessionReport:
            report = QBWCSimulator(url + "/qbwc", one.username, one.password, machine=machine).run()
            check_health(rt)
            run_jobs(rt)
            return report

        assert run().ok
        conn = connection(rt, one.connection_id)
        assert conn.bound_file_id is None and conn.bound_company == "Solo Books LLC"
        machine.files[A_PATH].advance(60)
        machine.files[A_PATH].add_bill("Solo Books LLC Supplier", "10.00", ref_number="S-1")
        assert run().ok
        assert len([c for c in fake_slack.posts("CDEFAULT") if "S-1" in str(c.params)]) == 1
        machine.open(B_PATH)
        assert not run().ok
        assert connection(rt, one.connection_id).status == ConnectionStatus.WRONG_FILE
        alerts = [e for e in _events(rt, one) if e.action == EventAction.ALERT]
        assert len(alerts) == 1
