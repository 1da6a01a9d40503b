"""`qbslack worker`: an RQ worker with the scheduler and our runtime set."""

from __future__ import annotations

import logging

from rq import SimpleWorker

from app.runtime import Runtime
from jobs.context import set_process_runtime
from jobs.queue import QUEUE_NAMES, RQJobQueue

log = logging.getLogger(__name__)


def run_worker(runtime: Runtime, *, burst: bool = False) -> int:
    """Work the delivery and default queues until stopped (or drained, with burst)."""
    if not isinstance(runtime.jobs, RQJobQueue):
        raise RuntimeError("run_worker needs a Redis-backed runtime")
    set_process_runtime(runtime)
    from jobs import periodic

    periodic.on_worker_start(runtime)
    queues = [runtime.jobs.queue(name) for name in QUEUE_NAMES]
    # SimpleWorker runs jobs in this process: no fork per job, and our pooled DB
    # connections are never shared across a fork.
    worker = SimpleWorker(queues, connection=runtime.jobs.connection)
    worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
    return 0
