"""`qbslack worker`: an RQ worker with our runtime, the delayed-job promoter and the sweeper."""

from __future__ import annotations

import logging
from typing import Any

from rq import Queue, SimpleWorker
from rq.job import Job

from app.core.jobqueue import QUEUE_NAMES, RQJobQueue
from app.core.runtime import Runtime
from jobs.background import Background

log = logging.getLogger(__name__)


class RuntimeWorker(SimpleWorker):
    """Runs each job with our runtime as the current one, as RQ sets its current job.

    SimpleWorker runs jobs in this process: no fork per job, and our pooled DB connections
    are never shared across a fork.
    """

    def __init__(self, queues: list[Queue], *, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(queues, **kwargs)
        self.runtime = runtime

    def execute_job(self, job: Job, queue: Queue) -> Any:
        return self.runtime.run(lambda: super(RuntimeWorker, self).execute_job(job, queue))


def run_worker(runtime: Runtime, *, burst: bool = False) -> int:
    """Work the delivery and default queues until stopped (or drained, with burst)."""
    if not isinstance(runtime.jobs, RQJobQueue):
        raise RuntimeError("run_worker needs a Redis-backed runtime")
    background = Background(runtime).start()
    queues = [runtime.jobs.queue(name) for name in QUEUE_NAMES]
    worker = RuntimeWorker(queues, runtime=runtime, connection=runtime.jobs.connection)
    try:
        worker.work(burst=burst, logging_level="WARNING")
    finally:
        background.stop()
    return 0
