"""The QuickBooks objects qbslack polls, and how each is queried and named."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """How one kind of QuickBooks object is queried and read back."""

    key: str  # our short name, also the watermark key
    request: str  # query element, e.g. BillQueryRq
    ret: str  # object element in the answer, e.g. BillRet
    object_type: str  # QuickBooks type name, also its TxnDelType/ListDelType
    id_field: str  # TxnID or ListID
    is_list: bool
    iterator: bool  # the schema allows iterator="Start"/"Continue"
    event_type: str  # routing key
    counterparty: tuple[str, ...]  # path to the counterparty's name
    line_items: bool = False  # send IncludeLineItems
    linked_txns: bool = False  # send IncludeLinkedTxns
    opt_in: bool = False  # polled only when a route names the event type

    @property
    def response(self) -> str:
        """The answer element, e.g. BillQueryRs."""
        return self.request[:-2] + "Rs"


ENTITIES: dict[str, Entity] = {
    e.key: e
    for e in (
        Entity("vendor", "VendorQueryRq", "VendorRet", "Vendor", "ListID", True, True,
               "vendor", ("Name",)),
        Entity("bill", "BillQueryRq", "BillRet", "Bill", "TxnID", False, True, "bill",
               ("VendorRef", "FullName"), line_items=True, linked_txns=True),
        Entity("purchase_order", "PurchaseOrderQueryRq", "PurchaseOrderRet", "PurchaseOrder",
               "TxnID", False, True, "purchase_order", ("VendorRef", "FullName"),
               line_items=True, linked_txns=True),
        Entity("bill_payment_check", "BillPaymentCheckQueryRq", "BillPaymentCheckRet",
               "BillPaymentCheck", "TxnID", False, True, "bill_payment",
               ("PayeeEntityRef", "FullName"), line_items=True),
        Entity("bill_payment_credit_card", "BillPaymentCreditCardQueryRq",
               "BillPaymentCreditCardRet", "BillPaymentCreditCard", "TxnID", False, True,
               "bill_payment", ("PayeeEntityRef", "FullName"), line_items=True),
        Entity("receive_payment", "ReceivePaymentQueryRq", "ReceivePaymentRet", "ReceivePayment",
               "TxnID", False, True, "payment_received", ("CustomerRef", "FullName"),
               line_items=True),
        Entity("invoice", "InvoiceQueryRq", "InvoiceRet", "Invoice", "TxnID", False, True,
               "invoice", ("CustomerRef", "FullName"), line_items=True, linked_txns=True),
        Entity("account", "AccountQueryRq", "AccountRet", "Account", "ListID", True, False,
               "account", ("FullName",), opt_in=True),
        Entity("employee", "EmployeeQueryRq", "EmployeeRet", "Employee", "ListID", True, False,
               "employee", ("Name",), opt_in=True),
    )
}

TXN_DELETED = "txn_deleted"
LIST_DELETED = "list_deleted"
DELETED_KEYS = (TXN_DELETED, LIST_DELETED)
TXN_TYPES = {e.object_type: e for e in ENTITIES.values() if not e.is_list}
LIST_TYPES = {e.object_type: e for e in ENTITIES.values() if e.is_list}
BY_RESPONSE = {e.response: e for e in ENTITIES.values()}
BY_REQUEST = {e.request: e for e in ENTITIES.values()}
CORE_KEYS = tuple(k for k, e in ENTITIES.items() if not e.opt_in)
