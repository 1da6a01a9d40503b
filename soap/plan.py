"""The sync plan of one QBWC session: which entities to query, from where, and how far."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from soap.qbtime import server_window, to_utc, window_start
from soap.qbxml.entities import CORE_KEYS, DELETED_KEYS, ENTITIES

# The first sync looks this far back by the server clock (QuickBooks' zone is unknown, so a
# wide margin), records what it finds as the baseline and posts nothing but one notice.
FIRST_SYNC_DAYS = 2
# A watermark never goes further ahead of the server clock than this: QuickBooks' times are
# the PC's wall clock (any zone, an offset an hour wrong in summer), but a change stamped
# days ahead comes from a PC clock set wrong (once, to 2031), and a watermark there would
# hide every later change until that date.
CLOCK_AHEAD = dt.timedelta(days=1)


def ahead(text: str | None, now: dt.datetime) -> bool:
    """True when a QuickBooks time is more than CLOCK_AHEAD past now (the server clock, UTC)."""
    when = to_utc(text)
    return when is not None and when > now + CLOCK_AHEAD


class EntityState(enum.StrEnum):
    """Where one entity's queries stand in this session."""

    PENDING = "pending"  # asked (again) in the next request
    DONE = "done"  # its iteration finished; its watermark moved if it saw objects
    FAILED = "failed"  # gave up for this session; its watermark stays for the next poll


@dataclass
class EntityProgress:
    """One entity's position in the session: its window, iterator and outcome."""

    window_from: str  # FromModifiedDate of its queries (QuickBooks' wall clock)
    state: EntityState = EntityState.PENDING
    iterator: str | None = None  # QuickBooks' iteratorID while an iteration goes on
    restarts: int = 0  # iterations started over after QuickBooks dropped the iterator
    max_modified: str | None = None  # the latest TimeModified taken: the watermark to be
    error: str | None = None  # why it failed, in plain words
    # Objects QuickBooks sent that were not taken (over a page's or the session's cap): the
    # earliest TimeModified among them, which the watermark must not pass, and whether one
    # had no usable time (then the watermark stays where it is).
    held: str | None = None
    held_untimed: bool = False

    def to_json(self) -> dict[str, Any]:
        """Its JSON form (keys are the field names)."""
        return {
            "window_from": self.window_from,
            "state": self.state,
            "iterator": self.iterator,
            "restarts": self.restarts,
            "max_modified": self.max_modified,
            "error": self.error,
            "held": self.held,
            "held_untimed": self.held_untimed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EntityProgress:
        """From its JSON form; TypeError or ValueError when it is not one."""
        progress = cls(**data)
        progress.state = EntityState(progress.state)
        return progress


@dataclass
class Plan:
    """What one session asks QuickBooks, kept with its ticket (as JSON) between calls."""

    version: str  # the qbXML version of its requests
    baseline: bool  # the connection's first sync: objects are recorded, not posted
    backfill: bool  # a first sync asked to look back further: its objects are posted
    company_file: str | None
    company_name: str | None
    ask_company: bool  # the next request also asks which company file is open
    opt_in: list[str]  # opt-in entities routed by the workspace, asked besides the core ones
    entities: dict[str, EntityProgress]
    sent: list[str] = field(default_factory=list)  # the entities of the latest request
    # The open file's FileID data extension under our OwnerID, from the first answer, and
    # whether that answer proved the file is this connection's (nothing is taken before).
    found_file_id: str | None = None
    verified: bool = False
    # The first TimeModified seen more than CLOCK_AHEAD ahead of the server clock (the PC's
    # clock is wrong): its object is posted, but no watermark moves to it.
    clock_ahead: str | None = None

    @classmethod
    def new(
        cls,
        marks: dict[str, str | None],
        opt_in: Iterable[str],
        *,
        baseline: bool,
        backfill_days: int | None,
        version: str,
        company_file: str | None,
        company_name: str | None,
        ask_company: bool,
        now: dt.datetime | None = None,
    ) -> Plan:
        """A fresh plan from the connection's watermarks and opt-in routes.

        baseline: the connection's first sync; backfill_days: how far back it looks, if asked.
        now: the server clock (UTC); a watermark further ahead of it than CLOCK_AHEAD (kept
        before that rule) is not trusted: its entity looks back as far as a first sync.
        """
        now = now or dt.datetime.now(dt.UTC)
        routed = sorted(k for k in set(opt_in) if k in ENTITIES)
        fallback_days = (backfill_days or FIRST_SYNC_DAYS) if baseline else FIRST_SYNC_DAYS
        entities = {}
        for key in [*CORE_KEYS, *routed, *DELETED_KEYS]:
            mark = None if baseline else marks.get(key)
            if ahead(mark, now):
                mark = None
            # A watermark's wall clock minus the overlap; without one (first sync, or nothing
            # seen yet) a window by the server clock.
            entities[key] = EntityProgress(window_start(mark) or server_window(fallback_days))
        return cls(
            version=version,
            baseline=baseline,
            backfill=baseline and bool(backfill_days),
            company_file=company_file,
            company_name=company_name,
            ask_company=ask_company,
            opt_in=routed,
            entities=entities,
        )

    def progress(self) -> int:
        """0..99 while queries remain, 100 when every entity is done or failed."""
        states = [st.state for st in self.entities.values()]
        finished = sum(1 for s in states if s != EntityState.PENDING)
        if finished == len(states):
            return 100
        return min(99, int(100 * finished / len(states)))

    def errors(self) -> list[str]:
        """The readable errors of the entities that failed in this session."""
        return [
            st.error or "failed" for st in self.entities.values() if st.state == EntityState.FAILED
        ]

    def saw_objects(self) -> bool:
        """True when an iteration under way has seen objects (its end moves a watermark)."""
        return any(st.max_modified or st.held for st in self.entities.values())

    def to_json(self) -> dict[str, Any]:
        """Its JSON form (keys are the field names)."""
        return {
            "version": self.version,
            "baseline": self.baseline,
            "backfill": self.backfill,
            "company_file": self.company_file,
            "company_name": self.company_name,
            "ask_company": self.ask_company,
            "opt_in": self.opt_in,
            "entities": {key: st.to_json() for key, st in self.entities.items()},
            "sent": self.sent,
            "found_file_id": self.found_file_id,
            "verified": self.verified,
            "clock_ahead": self.clock_ahead,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """From its JSON form; TypeError or ValueError when it is not one."""
        plan = cls(**data)
        entities: Any = plan.entities  # still JSON here
        if not isinstance(entities, dict):
            raise TypeError("a plan's entities are an object")
        plan.entities = {key: EntityProgress.from_json(st) for key, st in entities.items()}
        return plan
