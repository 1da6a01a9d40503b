"""A fake QuickBooks company, the PC it lives on, and a QBWC simulator (`qbslack simulate`,
tests, benchmarks)."""

from soap.simulator import fixtures
from soap.simulator.company import FakeCompany
from soap.simulator.machine import FakeMachine, OpenFailure
from soap.simulator.qbwc_client import (
    QBWCSimulator,
    SessionReport,
    SoapClient,
    SoapFault,
    simulate,
    soap_call,
)
from soap.simulator.qbxml_answer import Answerer, QbxmlRequestError, answer, hcp_response
from soap.simulator.records import Deletion, QbRecord

__all__ = [
    "Answerer",
    "Deletion",
    "FakeCompany",
    "FakeMachine",
    "QBWCSimulator",
    "OpenFailure",
    "QbRecord",
    "QbxmlRequestError",
    "SessionReport",
    "SoapClient",
    "SoapFault",
    "answer",
    "fixtures",
    "hcp_response",
    "simulate",
    "soap_call",
]
