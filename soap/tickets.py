"""Live QBWC tickets: the state machine's position per session, in Redis (or in process).

A ticket lives for one QBWC session (minutes): which call comes next, the sync plan, the
request awaiting its answer. What must survive is in PostgreSQL: events and watermarks are
written in receiveResponseXML's transaction, so a lost ticket costs only a retry at the
next poll, which starts again from the watermarks (and the events' dedupe keys absorb the
repeat). Keeping tickets out of the database spares a no-change poll most of its round
trips. Only a sha256 of the ticket is stored, so a leaked store yields no live tickets.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from soap.plan import Plan

log = logging.getLogger(__name__)

TTL_SECONDS = 30 * 60  # sliding: every call that changes the ticket extends it
KEY_PREFIX = "qbslack:qbwc:ticket:"
CONNECTION_PREFIX = "qbslack:qbwc:connection:"  # -> the hash of its live ticket
LOCAL_MAX = 100_000

# Open a ticket and forget the connection's previous one, atomically: a connection has at
# most one live session, and the old ticket is refused from this moment.
_OPEN = """
local old = redis.call('GET', KEYS[1])
if old and old ~= ARGV[1] then redis.call('DEL', ARGV[3] .. old) end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])
"""
# End a connection's live ticket (a password reset, a disable, a purge).
_END = """
local live = redis.call('GET', KEYS[1])
if live then redis.call('DEL', ARGV[1] .. live) end
redis.call('DEL', KEYS[1])
if live then return 1 end
return 0
"""
# Write a ticket back only while it is live (never revive one that ended meanwhile), and
# keep its connection's pointer as long as the ticket.
_SAVE = """
if redis.call('SET', KEYS[1], ARGV[1], 'XX', 'EX', ARGV[2]) then
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


class TicketState(enum.StrEnum):
    """Where a QBWC session stands: which call is expected next (soap.session moves it)."""

    AUTHENTICATED = "authenticated"  # sendRequestXML
    AWAITING = "awaiting_response"  # receiveResponseXML (a repeated sendRequestXML: resent)
    DONE = "done"  # receiveResponseXML returned 100: closeConnection
    FAILED = "failed"  # "" or a negative number was returned: getLastError, closeConnection
    IDLE = "idle"  # authenticate said "none": closeConnection
    # closeConnection ends the ticket; its last state words the closing message.


@dataclass
class Ticket:
    """One QBWC session's state."""

    hash: str
    connection_id: int
    tenant_id: int
    username: str
    state: TicketState
    # What sendRequestXML needs of the connection, read once at authenticate.
    baseline_done: bool = False
    backfill_days: int | None = None
    company_name: str | None = None
    file_path: str | None = None  # the bound company file's path (authenticate names it)
    # Who the company file must be: its FileID data extension (the bound one, else the
    # connection's own .qwc FileID) and, where QBWC wrote none, the bound company's name.
    file_id: str | None = None
    bound_company: str | None = None
    label: str = ""  # qbslack's name for the connection (messages)
    qb_country: str | None = None  # as last reported by QBWC (stored on the connection)
    bound: bool = False
    tried_open_file: bool = False  # QBWC could not open file_path: the open file was tried
    # Its watermarks and opt-in routes, read with the login: the plan's inputs.
    marks: dict[str, str | None] = field(default_factory=dict)
    opt_in: list[str] = field(default_factory=list)
    qbxml_version: str | None = None
    plan: Plan | None = None
    last_request: str | None = None
    requests_sent: int = 0
    events_created: int = 0
    changes_queued: int = 0  # of those, the ones going to Slack (not baseline or skipped)
    last_error: str | None = None
    created_at: float = field(default_factory=time.time)

    def dumps(self) -> str:
        """The ticket as JSON."""
        # Not dataclasses.asdict: it deep-copies every field first, for nothing.
        fields = {name: getattr(self, name) for name in _FIELDS}
        if self.plan is not None:
            fields["plan"] = self.plan.to_json()
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def loads(cls, data: str | bytes) -> Ticket:
        """A ticket from its JSON; TypeError or ValueError when it is not one."""
        fields = json.loads(data)
        if not isinstance(fields, dict):
            raise TypeError("a ticket is a JSON object")
        ticket = cls(**fields)
        ticket.state = TicketState(ticket.state)
        plan: Any = ticket.plan
        if plan is not None:
            ticket.plan = Plan.from_json(plan)
        return ticket


_FIELDS = tuple(f.name for f in dataclasses.fields(Ticket))


class TicketStore:
    """Tickets shared by every web process through Redis; in this process without Redis."""

    def __init__(self, redis: Redis | None = None, *, ttl: int = TTL_SECONDS) -> None:
        self.redis = redis
        self.ttl = ttl
        self._open = redis.register_script(_OPEN) if redis is not None else None
        self._save = redis.register_script(_SAVE) if redis is not None else None
        self._end = redis.register_script(_END) if redis is not None else None
        # Without Redis (the embedded default: one process): hash -> (json, expires).
        self._local: dict[str, tuple[str, float]] = {}
        self._local_connections: dict[int, str] = {}
        self._lock = threading.Lock()

    def open(self, ticket: Ticket) -> None:
        """Store a new ticket; the connection's previous one is gone from now on."""
        if self._open is not None:
            self._open(
                keys=[CONNECTION_PREFIX + str(ticket.connection_id), KEY_PREFIX + ticket.hash],
                args=[ticket.hash, ticket.dumps(), KEY_PREFIX, self.ttl],
            )
            return
        with self._lock:
            self._sweep_locally()
            old = self._local_connections.get(ticket.connection_id)
            if old is not None:
                self._local.pop(old, None)
            self._local_connections[ticket.connection_id] = ticket.hash
            self._local[ticket.hash] = (ticket.dumps(), time.monotonic() + self.ttl)

    def end_connection(self, connection_id: int) -> bool:
        """End the connection's live session: its next call finds no ticket. True if one was."""
        if self._end is not None:
            return bool(self._end(keys=[CONNECTION_PREFIX + str(connection_id)], args=[KEY_PREFIX]))
        with self._lock:
            live = self._local_connections.pop(connection_id, None)
            return live is not None and self._local.pop(live, None) is not None

    def load(self, ticket_hash: str) -> Ticket | None:
        """The live ticket with this hash, or None (unknown, replaced, closed or expired)."""
        if self.redis is not None:
            data = self.redis.get(KEY_PREFIX + ticket_hash)
        else:
            with self._lock:
                data = _unexpired(self._local.get(ticket_hash))
        return _readable(data)

    def save(self, ticket: Ticket) -> bool:
        """Write a ticket back and slide its expiry; False if it ended meanwhile (not revived)."""
        if self._save is not None:
            saved = bool(
                self._save(
                    keys=[KEY_PREFIX + ticket.hash, CONNECTION_PREFIX + str(ticket.connection_id)],
                    args=[ticket.dumps(), self.ttl],
                )
            )
        else:
            with self._lock:
                saved = ticket.hash in self._local
                if saved:
                    self._local[ticket.hash] = (ticket.dumps(), time.monotonic() + self.ttl)
        if not saved:
            log.info(
                "QBWC ticket ended during a call; its new state was not kept",
                extra={"connection": ticket.connection_id},
            )
        return saved

    def close(self, ticket_hash: str) -> Ticket | None:
        """End a ticket and return its last state (None if it was not live)."""
        if self.redis is not None:
            data = self.redis.getdel(KEY_PREFIX + ticket_hash)
        else:
            with self._lock:
                data = _unexpired(self._local.pop(ticket_hash, None))
        return _readable(data)

    def _sweep_locally(self) -> None:
        if len(self._local) < LOCAL_MAX:
            return
        now = time.monotonic()
        self._local = {h: v for h, v in self._local.items() if v[1] > now}
        live = set(self._local)
        self._local_connections = {c: h for c, h in self._local_connections.items() if h in live}


def _unexpired(found: tuple[str, float] | None) -> str | None:
    """An in-process entry's JSON while it lives."""
    return found[0] if found is not None and found[1] > time.monotonic() else None


def _readable(data: str | bytes | None) -> Ticket | None:
    """The stored ticket, or None when there is none or it cannot be read.

    A ticket written by another release (a field added or dropped) ends its session like an
    expired one: QBWC starts over at its next poll.
    """
    if not data:
        return None
    try:
        return Ticket.loads(data)
    except (TypeError, ValueError):
        log.warning("a stored QBWC ticket could not be read; its session ends")
        return None
