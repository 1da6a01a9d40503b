"""The firm's PC (FakeMachine): which company file QBWC gets, .qwc FileIDs, and sessions."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from soap.qbxml import Query, build_batch, parse_response
from soap.simulator import (
    FakeCompany,
    FakeMachine,
    OpenFailure,
    QBWCSimulator,
    QbxmlRequestError,
    SessionReport,
    fixtures,
)
from soap.simulator.qbwc_client import COMPANY_FILE, OPEN_RETRIES
from tests.soap.simulator.test_qbwc_client import Stub, url  # noqa: F401 (the url fixture)
from tests.support.qbxml_schema import assert_valid_qbxml

A = r"C:\Clients\Alpha\Alpha.QBW"
B = r"C:\Clients\Beta\Beta.QBW"
MISSING = r"C:\Clients\Gone\Gone.QBW"
OWNER = "{57F3B9B1-86F1-4fcc-B1EE-566DE1813D20}"
FILE_ID = "{90A44FB5-33D9-4815-AC85-BC87A7E7D1EB}"
QWC = f"""<?xml version="1.0"?>
<QBWCXML>
<AppName>qbslack</AppName>
<AppURL>https://qbslack.example/qbwc</AppURL>
<UserName>qbu-1</UserName>
<OwnerID>{OWNER}</OwnerID>
<FileID> {FILE_ID}
</FileID>
<QBType>QBFS</QBType>
</QBWCXML>"""


def company(name: str, ref: str) -> FakeCompany:
    c = FakeCompany(name, clock="2026-11-24T09:00:00")
    c.add_bill("Acme Supply Co", "10.00", ref)
    return c


def machine(open_path: str | None = A) -> FakeMachine:
    m = FakeMachine()
    m.add_file(A, company("Alpha LLC", "ALPHA-1"))
    m.add_file(B, company("Beta Inc", "BETA-1"))
    if open_path:
        m.open(open_path)
    return m


def fails(m: FakeMachine, requested: str) -> tuple[str, str]:
    with pytest.raises(OpenFailure) as info:
        m.begin_session(requested)
    assert str(info.value) == f"{info.value.hresult}: {info.value.message}"
    return info.value.hresult, info.value.message


# -- the machine's rules -----------------------------------------------------------------------


def test_empty_answer_uses_the_open_file():
    m = machine(B)
    assert m.begin_session("") == (B, m.files[B])


def test_empty_answer_with_quickbooks_closed_needs_a_file_name():
    hresult, message = fails(machine(None), "")
    assert hresult == "0x80040416" and "must include the name" in message


def test_a_path_with_quickbooks_closed_is_opened_unattended():
    m = machine(None)
    path, opened = m.begin_session(B)
    assert (path, opened) == (B, m.files[B]) and m.open_path is None  # still closed for the user
    assert m.begin_session(B.upper()) == (B, m.files[B])  # Windows paths ignore letter case


def test_a_path_that_does_not_exist_cannot_be_opened():
    hresult, message = fails(machine(None), MISSING)
    assert hresult == "0x80040403" and message.startswith("Could not open the specified")


def test_a_path_while_another_file_is_open_is_refused():
    m = machine(A)
    for requested in (B, MISSING):
        hresult, message = fails(m, requested)
        assert hresult == "0x8004040A" and "different from the one requested" in message


def test_the_path_that_is_open_is_used():
    m = machine(A)
    assert m.begin_session(A) == (A, m.files[A])
    assert m.begin_session(A.lower())[0] == A


def test_open_close_and_move():
    m = machine(A)
    m.open(B)  # the bookkeeper switches files
    assert m.open_path == B
    m.close()
    assert m.open_path is None
    with pytest.raises(KeyError):
        m.open(MISSING)
    beta = m.files[B]
    beta.data_ext[(OWNER.upper(), "FileID")] = FILE_ID
    m.open(B)
    moved = r"D:\Archive\Beta.QBW"
    m.move(B, moved)
    assert m.open_path == moved and m.files[moved] is beta and B not in m.files
    assert beta.data_ext == {(OWNER.upper(), "FileID"): FILE_ID}
    assert fails(m, B)[0] == "0x8004040A"
    m.close()
    assert fails(m, B)[0] == "0x80040403"  # the old path is gone
    assert m.begin_session(moved) == (moved, beta)
    m.move(A, r"C:\Clients\Alpha2.QBW")  # a closed file moves and stays closed
    assert m.open_path is None
    with pytest.raises(KeyError):
        m.move(MISSING, r"C:\x.QBW")
    with pytest.raises(ValueError, match="already"):
        m.move(moved, r"c:\clients\alpha2.qbw")
    with pytest.raises(ValueError, match="already"):
        m.add_file(moved.upper(), FakeCompany())


# -- adding a .qwc -----------------------------------------------------------------------------


def test_adding_a_qwc_writes_its_file_id_into_the_open_file_only():
    m = machine(A)
    m.add_qwc(QWC)
    assert m.files[A].data_ext == {(OWNER.upper(), "FileID"): FILE_ID}
    assert m.files[B].data_ext == {}
    m.open(B)  # the same .qwc added again with another file open: that file gets it too
    m.add_qwc(QWC.replace(FILE_ID, "{00000000-0000-0000-0000-000000000001}"))
    assert m.files[B].data_ext[(OWNER.upper(), "FileID")].endswith("0001}")
    assert m.files[A].data_ext[(OWNER.upper(), "FileID")] == FILE_ID


def test_adding_a_qwc_needs_quickbooks_open():
    m = machine(None)
    with pytest.raises(OpenFailure) as info:
        m.add_qwc(QWC)
    assert info.value.hresult == "0x80040416"
    assert all(not c.data_ext for c in m.files.values())


@pytest.mark.parametrize(
    "qwc",
    [
        QWC.replace(f"<OwnerID>{OWNER}</OwnerID>", ""),
        QWC.replace(FILE_ID, "not-a-guid"),
        QWC.replace("QBWCXML", "Other"),
    ],
)
def test_a_qwc_without_owner_and_file_ids_is_refused(qwc):
    m = machine(A)
    with pytest.raises(ValueError, match="qwc"):
        m.add_qwc(qwc)
    assert m.files[A].data_ext == {}


def test_a_qwc_is_read_with_the_safe_parser():
    hostile = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + QWC.split("?>", 1)[1]
    with pytest.raises(QbxmlRequestError):
        machine(A).add_qwc(hostile)
    with pytest.raises(QbxmlRequestError):
        machine(A).add_qwc("<QBWCXML><OwnerID>")


def test_data_extensions_survive_a_snapshot():
    c = company("Alpha LLC", "ALPHA-1")
    c.data_ext[(OWNER.upper(), "FileID")] = FILE_ID
    snap = fixtures.snapshot(c)
    assert snap["data_ext"] == [{"owner_id": OWNER.upper(), "name": "FileID", "value": FILE_ID}]
    again = fixtures.from_dict(snap)
    assert again.data_ext == c.data_ext and fixtures.snapshot(again) == snap
    assert fixtures.load().data_ext == {}  # the built-in fixture has none


# -- sessions against a stub endpoint ----------------------------------------------------------


@dataclass
class ScriptedStub(Stub):
    """connectionError answers taken in turn (the last one repeated)."""

    connection_answers: list[str] = field(default_factory=lambda: ["done"])

    def handle(self, method: str, params: dict[str, str]) -> str | list[str]:
        if method == "connectionError":
            answers = self.connection_answers
            return answers.pop(0) if len(answers) > 1 else answers[0]
        return super().handle(method, params)


@pytest.fixture
def stub() -> ScriptedStub:
    return ScriptedStub()


def run(url: str, m: FakeMachine) -> SessionReport:  # noqa: F811 (the url fixture's value)
    return QBWCSimulator(url, "qbu-1", "s3cret", machine=m).run()


def sent(stub: Stub, method: str) -> list[dict[str, str]]:
    return [s.params for s in stub.seen if s.method == method]


def test_session_runs_against_the_open_file(url, stub):  # noqa: F811
    m = machine(B)
    report = run(url, m)
    assert report.ok and report.company_file == B and report.as_dict()["company_file"] == B
    first = sent(stub, "sendRequestXML")[0]
    assert first["strCompanyFileName"] == B and "<CompanyName>Beta Inc" in first["strHCPResponse"]
    answers = [p["response"] for p in sent(stub, "receiveResponseXML")]
    assert "BETA-1" in answers[0] and "ALPHA-1" not in answers[0]


def test_session_with_a_path_and_quickbooks_closed_opens_it_unattended(url, stub):  # noqa: F811
    stub.auth = ["T", A.upper()]
    m = machine(None)
    report = run(url, m)
    assert report.ok and report.company_file == A and m.open_path is None
    assert sent(stub, "sendRequestXML")[0]["strCompanyFileName"] == A
    assert "ALPHA-1" in sent(stub, "receiveResponseXML")[0]["response"]


def test_another_file_open_calls_connection_error_and_done_stops(url, stub):  # noqa: F811
    stub.auth = ["T", A]
    report = run(url, machine(B))
    assert report.calls == ["serverVersion", "clientVersion", "authenticate", "connectionError"]
    [error] = sent(stub, "connectionError")
    assert error["ticket"] == "T" and error["hresult"] == "0x8004040A"
    assert "different from the one requested" in error["message"]
    assert not report.ok and report.connection_errors == ["done"] and report.requests == []
    assert (report.last_error or "").startswith("0x8004040A: ") and report.company_file is None


def test_connection_error_answer_names_the_next_try(url, stub):  # noqa: F811
    # Bound to A, which is not open; the service falls back to whatever file is open.
    stub.auth = ["T", A]
    stub.connection_answers = [""]
    report = run(url, machine(B))
    assert report.ok and report.company_file == B and report.connection_errors == [""]
    assert report.calls[3:5] == ["connectionError", "sendRequestXML"]
    assert sent(stub, "sendRequestXML")[0]["strCompanyFileName"] == B
    # QuickBooks closed: "" cannot work, the path answered to connectionError can.
    stub.seen.clear()
    stub.auth, stub.connection_answers = ["T", ""], [B]
    stub.sends, stub.progress = [build_batch([Query("bill", "b")])], [100]
    report = run(url, machine(None))
    assert report.ok and report.company_file == B
    assert sent(stub, "connectionError")[0]["hresult"] == "0x80040416"


def test_failed_opens_are_retried_a_couple_of_times_only(url, stub):  # noqa: F811
    stub.auth = ["T", MISSING]
    stub.connection_answers = [MISSING]
    report = run(url, machine(None))
    errors = sent(stub, "connectionError")
    assert len(errors) == OPEN_RETRIES + 1 and {e["hresult"] for e in errors} == {"0x80040403"}
    assert not report.ok and report.company_file is None and "closeConnection" not in report.calls


def test_a_pending_open_failure_of_the_opened_company_still_applies(url, stub):  # noqa: F811
    m = machine(A)
    m.files[A].fail_next("0x80040410", "The file is in use.", on_open=True)
    stub.connection_answers = [""]
    report = run(url, m)
    assert sent(stub, "connectionError")[0]["hresult"] == "0x80040410"
    assert report.ok and report.company_file == A and m.files[A].pending_open_failure is None


def test_the_file_id_comes_back_only_from_the_file_the_qwc_was_added_to(url, stub):  # noqa: F811
    m = machine(A)
    m.add_qwc(QWC)
    stub.sends = [build_batch([Query("bill", "b")], company_owner_id=OWNER)]
    stub.progress = [100]
    assert run(url, m).ok
    response = sent(stub, "receiveResponseXML")[0]["response"]
    assert_valid_qbxml(response)
    assert parse_response(response)[0].file_ids == {OWNER.upper(): FILE_ID}
    # The same service bound to A, but B is open and QBWC is told "" (the open file).
    m.open(B)
    stub.seen.clear()
    stub.sends = [build_batch([Query("bill", "b")], company_owner_id=OWNER)]
    assert run(url, m).company_file == B
    company_rs = parse_response(sent(stub, "receiveResponseXML")[0]["response"])[0]
    assert company_rs.company_name == "Beta Inc" and company_rs.file_ids == {}


def test_without_a_machine_one_company_is_always_open(url, stub):  # noqa: F811
    company_ = fixtures.load()
    stub.auth = ["T", r"C:\Somewhere\Else.QBW"]  # as before: whatever is named, it is used
    report = QBWCSimulator(url, "qbu-1", "s3cret", company_).run()
    assert report.ok and report.company_file == COMPANY_FILE
    assert sent(stub, "sendRequestXML")[0]["strCompanyFileName"] == COMPANY_FILE
    custom = QBWCSimulator(url, "u", "p", company_, company_file=A)
    assert custom.machine.files == {A: company_} and custom.machine.open_path == A


def test_a_company_or_a_machine_not_both():
    with pytest.raises(ValueError):
        QBWCSimulator("http://x/", "u", "p")
    with pytest.raises(ValueError):
        QBWCSimulator("http://x/", "u", "p", FakeCompany(), machine=FakeMachine())
