"""A fake QuickBooks company and a QBWC simulator (`qbslack simulate`, tests, benchmarks)."""

from soap.simulator.company import FakeCompany
from soap.simulator.qbwc_client import (
    QBWCSimulator,
    SessionReport,
    SoapClient,
    SoapFault,
    simulate,
    soap_call,
)
from soap.simulator.qbxml_answer import Answerer, answer

__all__ = [
    "Answerer",
    "FakeCompany",
    "QBWCSimulator",
    "SessionReport",
    "SoapClient",
    "SoapFault",
    "answer",
    "simulate",
    "soap_call",
]
