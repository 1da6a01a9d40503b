"""Job queues: RQ on Redis in production, a thread pool in the embedded default."""

from __future__ import annotations

import heapq
import importlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from redis import Redis
from rq import Queue

log = logging.getLogger(__name__)

DELAYED_KEY = "qbslack:delayed"
DELIVERY_QUEUE = "deliveries"
DEFAULT_QUEUE = "default"
QUEUE_NAMES = (DELIVERY_QUEUE, DEFAULT_QUEUE)


class JobQueue(Protocol):
    """Where job functions are handed for (possibly delayed) execution."""

    def enqueue(
        self,
        func: Callable[..., Any],
        *args: Any,
        delay: float = 0.0,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
    ) -> None:
        """Run func(*args) on a worker, after delay seconds."""

    def ping(self) -> None:
        """Raise if the queue backend is unreachable."""


class RQJobQueue:
    """Jobs on RQ; delayed jobs wait in a Redis sorted set promoted every 50 ms.

    RQ's own scheduler polls once a second, which would halve a channel's post rate
    (one post per second per channel); the sorted set is promoted by every worker.
    """

    def __init__(self, connection: Redis) -> None:
        self.connection = connection
        self._queues = {name: Queue(name, connection=connection) for name in QUEUE_NAMES}
        self._promote = connection.register_script(_PROMOTE_SCRIPT)

    def queue(self, name: str) -> Queue:
        """The RQ queue of that name."""
        return self._queues[name]

    def enqueue(
        self,
        func: Callable[..., Any],
        *args: Any,
        delay: float = 0.0,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
    ) -> None:
        if delay > 0:
            member = json.dumps(
                {
                    "f": f"{func.__module__}:{func.__qualname__}",
                    "a": list(args),
                    "q": queue,
                    "id": job_id,
                    "n": uuid.uuid4().hex,
                }
            )
            self.connection.zadd(DELAYED_KEY, {member: time.time() + delay})
            return
        self._queues[queue].enqueue(func, *args, job_id=job_id, result_ttl=0, failure_ttl=7 * 86400)

    def promote_due(self, limit: int = 200) -> int:
        """Move delayed jobs whose time has come onto their queues; returns how many."""
        members = self._promote(keys=[DELAYED_KEY], args=[time.time(), limit])
        for raw in members:
            spec = json.loads(raw)
            module, _, name = spec["f"].partition(":")
            func = getattr(importlib.import_module(module), name)
            self._queues[spec["q"]].enqueue(
                func, *spec["a"], job_id=spec["id"], result_ttl=0, failure_ttl=7 * 86400
            )
        return len(members)

    def delayed_count(self) -> int:
        """Jobs waiting for their time."""
        return int(self.connection.zcard(DELAYED_KEY))

    def ping(self) -> None:
        self.connection.ping()


# Pop every member whose score (due time) has passed, atomically, so each is promoted once.
_PROMOTE_SCRIPT = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
"""


class InProcessJobQueue:
    """A small scheduler plus thread pool that runs jobs in this process (embedded mode)."""

    def __init__(self, workers: int = 4, *, wrap: Callable[[Callable[[], Any]], Any] | None = None):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qbslack-job")
        self._heap: list[tuple[float, int, Callable[[], Any]]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        # Set by the runtime: each job runs with it as the current runtime.
        self.wrap: Callable[[Callable[[], Any]], Any] = wrap or (lambda call: call())
        self._pending = 0
        self._idle = threading.Condition()
        self._timer = threading.Thread(target=self._run_timer, name="qbslack-sched", daemon=True)
        self._timer.start()

    def enqueue(
        self,
        func: Callable[..., Any],
        *args: Any,
        delay: float = 0.0,
        queue: str = DEFAULT_QUEUE,
        job_id: str | None = None,
    ) -> None:
        with self._idle:
            self._pending += 1
        with self._cond:
            due = time.monotonic() + max(0.0, delay)
            heapq.heappush(self._heap, (due, next(self._counter), lambda: func(*args)))
            self._cond.notify()

    def ping(self) -> None:
        if self._stopped:
            raise RuntimeError("in-process job queue is stopped")

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no job is scheduled or running (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self) -> None:
        """Stop accepting timers and finish running jobs."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._timer.join(timeout=5)
        self._pool.shutdown(wait=True)

    def _run_timer(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, call = heapq.heappop(self._heap)
            self._pool.submit(self._run, call)

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.wrap(call)
        except Exception:
            # A job's own error handling records failures; this only keeps the pool alive.
            log.exception("in-process job failed")
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
