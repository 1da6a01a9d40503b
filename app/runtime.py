"""The runtime: settings plus the live connections every entry point builds once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory
from app.settings import Settings
from jobs.queue import InProcessJobQueue, JobQueue, RQJobQueue
from tenants.crypto import TokenCipher

T = TypeVar("T")


@dataclass
class Runtime:
    """Explicit dependencies for requests, jobs and commands (no module globals)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    cipher: TokenCipher
    redis: Redis | None
    jobs: JobQueue
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        engine: Engine | None = None,
        session_factory: sessionmaker[Session] | None = None,
        redis: Redis | None = None,
        jobs: JobQueue | None = None,
    ) -> Runtime:
        """Build the connections the settings describe (or use the ones given)."""
        engine = engine or make_engine(settings.database_url)
        session_factory = session_factory or make_session_factory(engine)
        if redis is None and settings.redis_url:
            redis = Redis.from_url(settings.redis_url, health_check_interval=30)
        holder: list[Runtime] = []
        if jobs is None:
            if redis is not None:
                jobs = RQJobQueue(redis)
            else:
                from jobs.context import use_runtime

                def wrap(call: Any) -> Any:
                    # In-process jobs see this runtime, as an RQ worker sets its own.
                    with use_runtime(holder[0]):
                        return call()

                jobs = InProcessJobQueue(wrap=wrap)
        runtime = cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            cipher=TokenCipher(settings.token_encryption_keys),
            redis=redis,
            jobs=jobs,
        )
        holder.append(runtime)
        return runtime

    def kept(self, name: str, build: Callable[[], T]) -> T:
        """The runtime's one object of this name (a store, a cache), built on first use."""
        found = self.extras.get(name)
        if found is None:  # two threads may both build; setdefault keeps the first
            found = self.extras.setdefault(name, build())
        return cast(T, found)

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
        # Shares the pool; psycopg switches autocommit client-side.
        engine = self.kept("autocommit_engine", lambda: self.engine.execution_options(
            isolation_level="AUTOCOMMIT"))
        with self.session_factory(bind=engine) as session:
            yield session
            session.commit()  # flushes what the ORM still holds

    def close(self) -> None:
        """Stop in-process jobs and release pooled connections."""
        background = self.extras.pop("background", None)
        if background is not None:
            background.stop()
        if isinstance(self.jobs, InProcessJobQueue):
            self.jobs.shutdown()
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()
