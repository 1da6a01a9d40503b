"""The CompanyQueryRq that asks for QBWC's FileID, and reading it back as QueryResult.file_ids."""

from __future__ import annotations

import pytest
from lxml import etree

from soap.qbxml import Query, QueryResult, build_batch, build_request, parse_response
from soap.simulator import Answerer, FakeCompany
from tests.support.qbxml_schema import assert_valid_qbxml

OWNER = "{57F3B9B1-86F1-4fcc-B1EE-566DE1813D20}"  # the sample .qwc's, mixed case
FILE_ID = "{90A44FB5-33D9-4815-AC85-BC87A7E7D1EB}"
OTHER_OWNER = "{11111111-2222-3333-4444-555555555555}"


def company_rq(xml: str) -> etree._Element:
    root = etree.fromstring(xml.split("?>", 2)[-1].encode())
    return root.find("QBXMLMsgsRq/CompanyQueryRq")


def answer(
    xml_ret: str, status: str = 'statusCode="0" statusSeverity="Info" statusMessage="Status OK"'
) -> QueryResult:
    [result] = parse_response(
        f'<QBXML><QBXMLMsgsRs><CompanyQueryRs requestID="company" {status}>'
        f"<CompanyRet><CompanyName>Acme</CompanyName>{xml_ret}</CompanyRet>"
        "</CompanyQueryRs></QBXMLMsgsRs></QBXML>"
    )
    return result


def ext(owner: str, value: str, name: str = "FileID") -> str:
    return (
        f"<DataExtRet><OwnerID>{owner}</OwnerID><DataExtName>{name}</DataExtName>"
        f"<DataExtType>STR255TYPE</DataExtType><DataExtValue>{value}</DataExtValue></DataExtRet>"
    )


# -- the request -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["13.0", "8.0"])
def test_batch_with_an_owner_id_leads_with_a_valid_company_query(version):
    xml = build_batch([Query("bill", "b")], version=version, company_owner_id=OWNER)
    assert_valid_qbxml(xml)
    rq = company_rq(xml)
    assert rq.get("requestID") == "company"
    assert [(c.tag, c.text) for c in rq] == [
        ("IncludeRetElement", "CompanyName"),
        ("IncludeRetElement", "DataExtRet"),
        ("OwnerID", OWNER),
    ]
    msgs = etree.fromstring(xml.split("?>", 2)[-1].encode()).find("QBXMLMsgsRq")
    assert [c.tag for c in msgs] == ["CompanyQueryRq", "BillQueryRq"]
    assert_valid_qbxml(build_batch([], company_owner_id=OWNER))


def test_a_company_query_without_owner_asks_for_the_name_only():
    rq = company_rq(build_request([Query("company", "company")]))
    assert [(c.tag, c.text) for c in rq] == [("IncludeRetElement", "CompanyName")]
    assert company_rq(build_request([Query("bill", "b")])) is None


def test_several_owner_ids_are_sent_once_each_after_the_include_elements():
    xml = build_request([Query("company", "c", owner_ids=(OWNER, OTHER_OWNER, OWNER))])
    assert_valid_qbxml(xml)
    assert [c.tag for c in company_rq(xml)] == [
        "IncludeRetElement",
        "IncludeRetElement",
        "OwnerID",
        "OwnerID",
    ]


@pytest.mark.parametrize(
    "owner",
    ["", "0", "57F3B9B1-86F1-4fcc-B1EE-566DE1813D20", "{not-a-guid}", OWNER + " ", "{" * 200],
)
def test_an_owner_id_that_is_not_a_guid_is_refused(owner):
    with pytest.raises(ValueError, match="OwnerID"):
        build_batch([], company_owner_id=owner)


def test_owner_ids_belong_to_the_company_query_only():
    for entity in ("bill", "vendor", "txn_deleted"):
        with pytest.raises(ValueError, match="owner_ids"):
            build_request([Query(entity, "x", owner_ids=(OWNER,))])


# -- reading it back ---------------------------------------------------------------------------


def test_file_ids_are_keyed_by_upper_cased_owner_and_stripped():
    result = answer(ext(f"  {OWNER}\n", f"\n  {FILE_ID}  ") + ext(OTHER_OWNER, "{X}"))
    assert result.entity == "company" and result.company_name == "Acme"
    assert result.file_ids == {OWNER.upper(): FILE_ID, OTHER_OWNER: "{X}"}


def test_other_data_extensions_and_incomplete_ones_are_ignored():
    result = answer(
        ext(OWNER, "x", name="Notes")
        + ext(OWNER, "y", name="fileid")
        + ext("", FILE_ID)
        + ext(OTHER_OWNER, "")
        + "<DataExtRet><DataExtName>FileID</DataExtName><DataExtValue>z</DataExtValue>"
        "</DataExtRet>"
    )
    assert result.file_ids == {}


def test_file_ids_are_bounded():
    long = "{" + "A" * 64 + "}"
    result = answer(ext(OWNER, long) + ext(long, FILE_ID))
    assert result.file_ids == {}
    many = "".join(ext(f"{{{i:08d}-0000-0000-0000-000000000000}}", f"v{i}") for i in range(80))
    result = answer(many + ext(OWNER, FILE_ID))
    assert len(result.file_ids) == 50 and OWNER.upper() not in result.file_ids
    assert result.file_ids["{00000000-0000-0000-0000-000000000000}"] == "v0"
    # The first of two for the same owner is kept.
    assert answer(ext(OWNER, "first") + ext(OWNER, "second")).file_ids == {OWNER.upper(): "first"}


def test_an_error_answer_or_no_company_ret_has_no_file_ids():
    error = 'statusCode="3100" statusSeverity="Error" statusMessage="nope"'
    assert answer(ext(OWNER, FILE_ID), status=error).file_ids == {}
    [empty] = parse_response(
        '<QBXML><QBXMLMsgsRs><CompanyQueryRs statusCode="0" statusSeverity="Info" '
        'statusMessage="Status OK"/></QBXMLMsgsRs></QBXML>'
    )
    assert empty.file_ids == {} and empty.company_name is None
    assert QueryResult("x", None, 0, "Info", "").file_ids == {}


def test_the_fake_quickbooks_answer_parses_back_into_file_ids():
    company = FakeCompany("Client One LLC", clock="2026-11-24T09:00:00")
    company.add_bill("Acme", "10.00", "B-1")
    company.data_ext[(OWNER.upper(), "FileID")] = FILE_ID
    company.data_ext[(OWNER.upper(), "Other")] = "ignored"
    company.data_ext[(OTHER_OWNER, "FileID")] = "{SOMEONE-ELSES}"
    response = Answerer(company).answer(build_batch([Query("bill", "b")], company_owner_id=OWNER))
    assert_valid_qbxml(response)
    first, bills = parse_response(response)
    assert first.request_id == "company" and first.company_name == "Client One LLC"
    assert first.file_ids == {OWNER.upper(): FILE_ID}  # another owner's stays private
    assert [o.ref_number for o in bills.objects] == ["B-1"]
    # Without an OwnerID QuickBooks returns no private data extensions at all.
    plain = Answerer(company).answer(build_request([Query("company", "company")]))
    assert_valid_qbxml(plain)
    assert "DataExtRet" not in plain and parse_response(plain)[0].file_ids == {}
