"""SOAP calls log JSON lines with tenant, connection and a ticket prefix, never the ticket."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from app.core.logs import ContextFilter, JsonFormatter, log_context, ticket_prefix
from tests.support.soap import connect


@contextmanager
def json_lines(logger_name: str) -> Iterator[io.StringIO]:
    """What a logger writes meanwhile, through our production formatter and filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_log_context_fills_missing_fields_only():
    logger = logging.getLogger("qbslack.test.context")
    with json_lines(logger.name) as stream:
        with log_context(ticket="abcdefgh…", tenant=7):
            logger.warning("inside", extra={"tenant": 9})
        logger.warning("outside")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["ticket"] == "abcdefgh…" and inside["tenant"] == "9"  # the record's own wins
    assert "ticket" not in outside and "tenant" not in outside
    assert ticket_prefix(None) is None and ticket_prefix("x" * 43) == "x" * 8 + "…"


def test_a_quickbooks_error_is_logged_with_tenant_and_ticket_prefix(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    with json_lines("soap.ending") as stream:
        ticket = qbwc.authenticate(c.username, c.password)[0]
        qbwc.send(ticket)
        assert qbwc.receive(ticket, "", hresult="0x80040408", message="Could not start") < 0
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = next(line for line in lines if "failed" in line["message"])
    assert failed["level"] == "WARNING" and failed["tenant"] == str(c.tenant_id)
    assert failed["connection"] == str(c.connection_id)
    assert failed["ticket"] == ticket[:8] + "…"
    assert ticket not in stream.getvalue() and c.password not in stream.getvalue()
