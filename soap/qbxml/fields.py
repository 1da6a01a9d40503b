"""Which elements of each qbXML answer we keep, under which payload names."""

from __future__ import annotations

from soap.qbxml.entities import BY_RESPONSE, COMPANY, DELETED_BY_RESPONSE

LINE_TAGS = (
    "ExpenseLineRet",
    "ItemLineRet",
    "ItemGroupLineRet",
    "PurchaseOrderLineRet",
    "PurchaseOrderLineGroupRet",
    "InvoiceLineRet",
    "InvoiceLineGroupRet",
)
# payload key -> element path, read when present (empty values are left out).
COMMON_TXN_FIELDS = {
    "txn_number": "TxnNumber",
    "txn_date": "TxnDate",
    "due_date": "DueDate",
    "memo": "Memo",
    "terms": "TermsRef/FullName",
    "exchange_rate": "ExchangeRate",
}
TYPE_FIELDS: dict[str, dict[str, str]] = {
    "Bill": {
        "amount_due": "AmountDue",
        "open_amount": "OpenAmount",
        "ap_account": "APAccountRef/FullName",
    },
    "PurchaseOrder": {
        "total_amount": "TotalAmount",
        "expected_date": "ExpectedDate",
        "ship_to": "ShipToEntityRef/FullName",
        "vendor_message": "VendorMsg",
    },
    "BillPaymentCheck": {
        "bank_account": "BankAccountRef/FullName",
        "ap_account": "APAccountRef/FullName",
    },
    "BillPaymentCreditCard": {
        "bank_account": "CreditCardAccountRef/FullName",
        "ap_account": "APAccountRef/FullName",
    },
    "ReceivePayment": {
        "total_amount": "TotalAmount",
        "payment_method": "PaymentMethodRef/FullName",
        "deposit_to": "DepositToAccountRef/FullName",
        "unused_payment": "UnusedPayment",
        "unused_credits": "UnusedCredits",
    },
    "Invoice": {
        "subtotal": "Subtotal",
        "sales_tax_total": "SalesTaxTotal",
        "applied_amount": "AppliedAmount",
        "balance_remaining": "BalanceRemaining",
        "open_amount": "BalanceRemaining",
        "po_number": "PONumber",
        "sales_rep": "SalesRepRef/FullName",
    },
    "Vendor": {
        "full_name": "Name",
        "company_name": "CompanyName",
        "balance": "Balance",
        "email": "Email",
        "phone": "Phone",
        "vendor_type": "VendorTypeRef/FullName",
        "terms": "TermsRef/FullName",
    },
    "Account": {
        "full_name": "FullName",
        "account_type": "AccountType",
        "account_number": "AccountNumber",
        "description": "Desc",
        "balance": "Balance",
    },
    # Employees carry personal data (SSN, birth date...): only what a message needs.
    "Employee": {"full_name": "Name", "job_title": "JobTitle"},
}
# Our short name of each answer we read.
KNOWN = {
    "CompanyQueryRs": COMPANY,
    **{tag: kind.key for tag, kind in DELETED_BY_RESPONSE.items()},
    **{tag: entity.key for tag, entity in BY_RESPONSE.items()},
}
BOOL_FIELDS = {
    "is_paid": "IsPaid",
    "is_active": "IsActive",
    "is_fully_received": "IsFullyReceived",
    "is_manually_closed": "IsManuallyClosed",
    "is_pending": "IsPending",
}
