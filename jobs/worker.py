"""`qbslack worker`: an RQ worker with our runtime, the delayed-job promoter and the sweeper."""

from __future__ import annotations

import logging

from rq import SimpleWorker

from app.runtime import Runtime
from jobs.background import Background
from jobs.context import set_process_runtime
from jobs.queue import QUEUE_NAMES, RQJobQueue

log = logging.getLogger(__name__)


def run_worker(runtime: Runtime, *, burst: bool = False) -> int:
    """Work the delivery and default queues until stopped (or drained, with burst)."""
    if not isinstance(runtime.jobs, RQJobQueue):
        raise RuntimeError("run_worker needs a Redis-backed runtime")
    set_process_runtime(runtime)
    background = Background(runtime).start()
    queues = [runtime.jobs.queue(name) for name in QUEUE_NAMES]
    # SimpleWorker runs jobs in this process: no fork per job, and our pooled DB
    # connections are never shared across a fork.
    worker = SimpleWorker(queues, connection=runtime.jobs.connection)
    try:
        worker.work(burst=burst, logging_level="WARNING")
    finally:
        background.stop()
    return 0
