"""A fake QuickBooks company and a QBWC simulator (`qbslack simulate`, tests, benchmarks)."""

from soap.simulator.company import Deletion, FakeCompany, QbRecord, load_fixture
from soap.simulator.qbwc_client import (
    QBWCSimulator,
    SessionReport,
    SoapClient,
    SoapFault,
    simulate,
    soap_call,
)
from soap.simulator.qbxml_answer import Answerer, QbxmlRequestError, answer, hcp_response

__all__ = [
    "Answerer",
    "Deletion",
    "FakeCompany",
    "QBWCSimulator",
    "QbRecord",
    "QbxmlRequestError",
    "SessionReport",
    "SoapClient",
    "SoapFault",
    "answer",
    "hcp_response",
    "load_fixture",
    "simulate",
    "soap_call",
]
