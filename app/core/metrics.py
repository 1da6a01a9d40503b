"""Prometheus counters the code bumps (the /metrics route lives in app.web.metrics)."""

from __future__ import annotations

from prometheus_client import Counter

POLLS = Counter("qbslack_polls_total", "QBWC sessions by outcome", ["result"])
EVENTS_CREATED = Counter("qbslack_events_created_total", "Outbox events created", ["event_type"])
DELIVERIES = Counter("qbslack_deliveries_total", "Slack delivery attempts by result", ["result"])
RATELIMITED = Counter("qbslack_slack_ratelimited_total", "Slack HTTP 429 answers")
QBWC_ERRORS = Counter("qbslack_qbwc_errors_total", "QuickBooks errors by hresult", ["hresult"])
AUTH_FAILURES = Counter("qbslack_auth_failures_total", "Failed QBWC logins", ["reason"])


def record_poll(result: str) -> None:
    """Count a finished QBWC session (ok, error, nvu, none)."""
    POLLS.labels(result).inc()


def record_events(event_type: str, count: int = 1) -> None:
    """Count events added to the outbox."""
    if count:
        EVENTS_CREATED.labels(event_type).inc(count)


def record_delivery(result: str) -> None:
    """Count a delivery attempt (posted, ratelimited, retry, failed, ...)."""
    DELIVERIES.labels(result).inc()
    if result == "ratelimited":
        RATELIMITED.inc()


def record_qbwc_error(hresult: str) -> None:
    """Count a QuickBooks-side error by its hresult or status code."""
    QBWC_ERRORS.labels(hresult or "unknown").inc()


# What qbslack caps or drops of QuickBooks' input (a fixed label set: see record_input_capped).
INPUT_CAPS = ("number", "text", "payload", "page", "session")
INPUT_CAPPED = Counter(
    "qbslack_input_capped_total",
    "QuickBooks input capped or dropped: bad numbers, long texts, big payloads, "
    "objects over a page's or a session's cap",
    ["what"],
)
for _what in INPUT_CAPS:
    INPUT_CAPPED.labels(_what)  # every label shows, at 0, from the start


def record_input_capped(what: str, count: int = 1) -> None:
    """Count values or objects capped (what: one of INPUT_CAPS)."""
    if what not in INPUT_CAPS:
        raise ValueError(f"unknown input cap {what!r}")
    if count:
        INPUT_CAPPED.labels(what).inc(count)
