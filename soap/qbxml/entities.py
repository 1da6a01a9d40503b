"""The QuickBooks objects qbslack polls, and how each is queried and read back."""

# Every name, flag and element order here was checked against qbXML 13.0 (qbxmlops130.xsd).

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """How one kind of QuickBooks object is queried and read back."""

    key: str  # our short name, also the watermark key
    request: str  # query element, e.g. BillQueryRq
    response: str  # answer element, e.g. BillQueryRs
    ret: str  # object element in the answer, e.g. BillRet
    object_type: str  # QuickBooks type name, also its TxnDelType/ListDelType
    id_field: str  # TxnID or ListID
    is_list: bool  # list object (ListFilter: FromModifiedDate) or transaction (TxnFilter)
    iterator: bool  # the schema allows iterator="Start"/"Continue" on the request
    event_type: str  # routing key
    counterparty: tuple[str, ...]  # element paths tried in order for the name to show
    amount: tuple[str, ...] = ()  # element paths for "the amount": first found, or the sum
    amount_is_sum: bool = False  # add the amount paths up (invoice: Subtotal + SalesTaxTotal)
    line_items: bool = False  # send IncludeLineItems (lines; AppliedToTxnRet for payments)
    linked_txns: bool = False  # send IncludeLinkedTxns (only Bill, PurchaseOrder, Invoice)
    opt_in: bool = False  # polled only when a route names the event type


def _list(
    key: str,
    object_type: str,
    event_type: str,
    counterparty: tuple[str, ...],
    *,
    iterator: bool,
    opt_in: bool = False,
) -> Entity:
    return Entity(
        key,
        f"{object_type}QueryRq",
        f"{object_type}QueryRs",
        f"{object_type}Ret",
        object_type,
        "ListID",
        True,
        iterator,
        event_type,
        counterparty,
        opt_in=opt_in,
    )


def _txn(
    key: str,
    object_type: str,
    event_type: str,
    counterparty: str,
    amount: tuple[str, ...],
    *,
    linked_txns: bool,
    amount_is_sum: bool = False,
) -> Entity:
    # Every transaction query we use accepts iterators and IncludeLineItems.
    return Entity(
        key,
        f"{object_type}QueryRq",
        f"{object_type}QueryRs",
        f"{object_type}Ret",
        object_type,
        "TxnID",
        False,
        True,
        event_type,
        (counterparty,),
        amount,
        amount_is_sum,
        line_items=True,
        linked_txns=linked_txns,
    )


# Amounts: a bill's AmountDue is its total (OpenAmount is what is still unpaid); an
# invoice's total is Subtotal + SalesTaxTotal (BalanceRemaining is kept as open_amount);
# payments use the money that moved; list objects have no amount (Balance is in payload).
ENTITIES: dict[str, Entity] = {
    e.key: e
    for e in (
        _list("vendor", "Vendor", "vendor", ("Name",), iterator=True),
        _txn("bill", "Bill", "bill", "VendorRef/FullName", ("AmountDue",), linked_txns=True),
        _txn(
            "purchase_order",
            "PurchaseOrder",
            "purchase_order",
            "VendorRef/FullName",
            ("TotalAmount",),
            linked_txns=True,
        ),
        _txn(
            "bill_payment_check",
            "BillPaymentCheck",
            "bill_payment",
            "PayeeEntityRef/FullName",
            ("Amount",),
            linked_txns=False,
        ),
        _txn(
            "bill_payment_credit_card",
            "BillPaymentCreditCard",
            "bill_payment",
            "PayeeEntityRef/FullName",
            ("Amount",),
            linked_txns=False,
        ),
        _txn(
            "receive_payment",
            "ReceivePayment",
            "payment_received",
            "CustomerRef/FullName",
            ("TotalAmount",),
            linked_txns=False,
        ),
        _txn(
            "invoice",
            "Invoice",
            "invoice",
            "CustomerRef/FullName",
            ("Subtotal", "SalesTaxTotal"),
            linked_txns=True,
            amount_is_sum=True,
        ),
        # AccountQueryRq and EmployeeQueryRq have no iterator attributes in qbXML 13.0.
        _list("account", "Account", "account", ("FullName", "Name"), iterator=False, opt_in=True),
        _list("employee", "Employee", "employee", ("Name",), iterator=False, opt_in=True),
    )
}


@dataclass(frozen=True)
class DeletedKind:
    """A deletion query (TxnDeletedQueryRq / ListDeletedQueryRq): no iterators in qbXML."""

    key: str
    request: str
    response: str
    ret: str
    type_tag: str  # TxnDelType / ListDelType
    id_field: str
    name_field: str  # what a deletion record still tells about the object
    default_types: tuple[str, ...]
    allowed_types: tuple[str, ...]


TXN_DELETED = "txn_deleted"
LIST_DELETED = "list_deleted"
COMPANY = "company"
DELETED_KEYS = (TXN_DELETED, LIST_DELETED)
TXN_TYPES = {e.object_type: e for e in ENTITIES.values() if not e.is_list}
LIST_TYPES = {e.object_type: e for e in ENTITIES.values() if e.is_list}
TXN_DELETE_TYPES = tuple(TXN_TYPES)
# Account and Employee deletions are asked for only when those opt-in types are polled.
LIST_DELETE_TYPES = ("Vendor",)
DELETED: dict[str, DeletedKind] = {
    TXN_DELETED: DeletedKind(
        TXN_DELETED,
        "TxnDeletedQueryRq",
        "TxnDeletedQueryRs",
        "TxnDeletedRet",
        "TxnDelType",
        "TxnID",
        "RefNumber",
        TXN_DELETE_TYPES,
        tuple(TXN_TYPES),
    ),
    LIST_DELETED: DeletedKind(
        LIST_DELETED,
        "ListDeletedQueryRq",
        "ListDeletedQueryRs",
        "ListDeletedRet",
        "ListDelType",
        "ListID",
        "FullName",
        LIST_DELETE_TYPES,
        tuple(LIST_TYPES),
    ),
}
BY_RESPONSE = {e.response: e for e in ENTITIES.values()}
BY_REQUEST = {e.request: e for e in ENTITIES.values()}
DELETED_BY_RESPONSE = {d.response: d for d in DELETED.values()}
CORE_KEYS = tuple(k for k, e in ENTITIES.items() if not e.opt_in)
