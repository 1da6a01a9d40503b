"""The runtime: settings plus the live connections every entry point builds once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import Clock, SystemClock
from app.core.coordination import Coordinator, LocalCoordinator, RedisCoordinator
from app.core.crypto import TokenCipher
from app.core.db import make_engine, make_session_factory
from app.core.jobqueue import InProcessJobQueue, JobQueue, RQJobQueue
from app.core.settings import Settings

T = TypeVar("T")


class Stoppable(Protocol):
    """A background loop the runtime stops when it closes."""

    def stop(self) -> None:
        """Stop the loop and wait for it."""


@dataclass
class Runtime:
    """Explicit dependencies for requests, jobs and commands (no module globals)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    cipher: TokenCipher
    redis: Redis | None
    jobs: JobQueue
    # Locks, rate slots and queued marks shared by every process (in memory when embedded).
    coordinator: Coordinator
    # The same pool, each statement committing on its own (see autocommit()).
    autocommit_engine: Engine
    # The sweeper loop, when this process runs jobs itself (embedded mode).
    background: Stoppable | None = None
    # Bolt's listener threads, in a web process with the Slack app configured.
    listener_executor: ThreadPoolExecutor | None = None
    # What time it is for everything that schedules (tests set a ManualClock).
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        engine: Engine | None = None,
        session_factory: sessionmaker[Session] | None = None,
        redis: Redis | None = None,
        jobs: JobQueue | None = None,
        clock: Clock | None = None,
    ) -> Runtime:
        """Build the connections the settings describe (or use the ones given)."""
        engine = engine or make_engine(settings.database_url)
        if redis is None and settings.redis_url:
            redis = Redis.from_url(settings.redis_url, health_check_interval=30)
        in_process = InProcessJobQueue() if jobs is None and redis is None else None
        if jobs is None:
            jobs = RQJobQueue(redis) if redis is not None else in_process
        assert jobs is not None
        runtime = cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory or make_session_factory(engine),
            cipher=TokenCipher(settings.token_encryption_keys),
            redis=redis,
            jobs=jobs,
            coordinator=RedisCoordinator(redis) if redis is not None else LocalCoordinator(),
            # Shares the pool; psycopg switches autocommit client-side.
            autocommit_engine=engine.execution_options(isolation_level="AUTOCOMMIT"),
            clock=clock or SystemClock(),
        )
        if in_process is not None:
            # In-process jobs see this runtime, as an RQ worker sets its own around each job.
            in_process.wrap = runtime.run
        return runtime

    def run(self, call: Callable[[], T]) -> T:
        """Call with this runtime as the current one (what a worker does around a job)."""
        with use_runtime(self):
            return call()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self.session_factory.begin() as session:
            yield session

    @contextmanager
    def autocommit(self) -> Iterator[Session]:
        """A session whose every statement commits on its own: for calls that write one row.

        It spares the BEGIN and COMMIT round trips of a transaction; a call that writes
        more than one row consistently uses transaction() instead.
        """
        with self.session_factory(bind=self.autocommit_engine) as session:
            yield session
            session.commit()  # flushes what the ORM still holds

    def close(self) -> None:
        """Stop background loops and in-process jobs, and release pooled connections."""
        if self.background is not None:
            self.background.stop()
            self.background = None
        if self.listener_executor is not None:
            self.listener_executor.shutdown(wait=True)
            self.listener_executor = None
        if isinstance(self.jobs, InProcessJobQueue):
            self.jobs.shutdown()
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


# The runtime of the job being run, set around each job by whoever runs it (the RQ worker,
# the in-process queue, a test), as RQ sets its current job.
_current: ContextVar[Runtime | None] = ContextVar("qbslack_runtime", default=None)


@contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Run the enclosed code (a job) with this runtime as the current one."""
    token = _current.set(runtime)
    try:
        yield runtime
    finally:
        _current.reset(token)


def current_runtime() -> Runtime:
    """The runtime of the running job; LookupError outside one."""
    runtime = _current.get()
    if runtime is None:
        raise LookupError("no current runtime: job functions run inside use_runtime()")
    return runtime
