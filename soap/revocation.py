"""Ending a company file's QBWC access now: a password reset, a disable, a purge."""

from __future__ import annotations

import logging

from app.core.runtime import Runtime
from soap.logins import VerifiedLogins
from soap.tickets import TicketStore

log = logging.getLogger(__name__)


def end_sessions(runtime: Runtime, *, connection_id: int, username: str, stored_hash: str) -> bool:
    """End the connection's live QBWC session and forget its verified login.

    The session's next call finds no ticket (QBWC is told the session is over) and the next
    poll checks the password in full. Call it with the password hash that was valid until
    now. True when a live session was ended.
    """
    ended = TicketStore(runtime.redis).end_connection(connection_id)
    VerifiedLogins(secret=runtime.settings.secret_key, redis=runtime.redis).forget(
        username, stored_hash
    )
    if ended:
        log.info("ended the live QBWC session of connection %s", connection_id)
    return ended
