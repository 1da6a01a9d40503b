"""The vocabularies of workspaces and their company files: statuses and event types."""

from enum import StrEnum


class TenantStatus(StrEnum):
    """Whether a workspace's events may be delivered."""

    ACTIVE = "active"
    UNINSTALLED = "uninstalled"
    DISCONNECTED = "disconnected"  # token revoked/invalid: deliveries pause
    DISABLED = "disabled"  # switched off by the operator


class ConnectionStatus(StrEnum):
    """How a company file's last QBWC session went."""

    NEW = "new"  # never polled
    OK = "ok"
    ERROR = "error"
    DISABLED = "disabled"
    # QBWC had another company file open: nothing was read (see Connection.open_company).
    WRONG_FILE = "wrong_company_file"


class EventType(StrEnum):
    """An event's routing key: the kind of QuickBooks object it is about."""

    VENDOR = "vendor"
    BILL = "bill"
    PURCHASE_ORDER = "purchase_order"
    BILL_PAYMENT = "bill_payment"
    PAYMENT_RECEIVED = "payment_received"
    INVOICE = "invoice"
    ACCOUNT = "account"  # opt-in
    EMPLOYEE = "employee"  # opt-in
    NOTICE = "notice"  # the "connected to <company>" message; goes where `default` goes
    ALERT = "alert"  # a health alert for the managers; goes to the `alerts` route or a DM
