"""Background loops beside job execution: delayed jobs, the outbox sweep, health checks."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from app.core.jobqueue import RQJobQueue
from app.core.runtime import Runtime
from jobs.alerts import CHECK_EVERY, check_health
from jobs.sweeper import STALE_AFTER, SWEEP_EVERY, sweep

log = logging.getLogger(__name__)

PROMOTE_EVERY = 0.05


class Background:
    """A daemon thread: promote due delayed jobs (RQ), sweep, and check connections' health."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        sweep_every: float = SWEEP_EVERY,
        stale_after: dt.timedelta = STALE_AFTER,
        check_every: float = CHECK_EVERY,
    ) -> None:
        self.runtime = runtime
        self.sweep_every = sweep_every
        self.check_every = check_every
        self.stale_after = stale_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qbslack-background", daemon=True)

    def start(self) -> Background:
        """Start the loop."""
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """True while the loop's thread is alive."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop the loop and wait for it."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        next_sweep = time.monotonic() + 1.0
        next_check = time.monotonic() + 2.0
        jobs = self.runtime.jobs
        while not self._stop.is_set():
            try:
                if isinstance(jobs, RQJobQueue):
                    jobs.promote_due()
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.sweep_every
                    # One sweeper at a time across all workers.
                    token = self.runtime.coordinator.lock("sweeper", self.sweep_every * 0.9)
                    if token is not None:
                        sweep(self.runtime, stale_after=self.stale_after)
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + self.check_every
                    # One checker at a time across all workers (the lock outlives the run
                    # until the next one is due, so a fast worker does not check again).
                    token = self.runtime.coordinator.lock("health-check", self.check_every * 0.9)
                    if token is not None:
                        check_health(self.runtime)
            except Exception:
                log.exception("background loop error (will retry)")
                self._stop.wait(1.0)
            self._stop.wait(PROMOTE_EVERY if isinstance(jobs, RQJobQueue) else 0.5)
