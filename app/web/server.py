"""`qbslack serve`: gunicorn in-process, sized for embedded or production mode."""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn.app.base import BaseApplication

from app.core.migrate import upgrade
from app.core.settings import Settings
from app.web.factory import create_app
from app.web.gunicorn_conf import post_worker_init

log = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """Runs our app factory, with the settings serve() was given, under gunicorn."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app(self.settings)


def serve(
    settings: Settings,
    *,
    host: str = "0.0.0.0",  # noqa: S104 - a server binds all interfaces
    workers: int | None = None,
    threads: int | None = None,
) -> None:
    """Serve on settings.port until stopped."""
    if settings.is_sqlite:
        upgrade(settings.database_url)
    embedded = settings.embedded_jobs or settings.is_sqlite
    if embedded and (workers or 1) > 1:
        log.warning("embedded mode runs one process (SQLite, in-process jobs): --workers ignored")
    options = {
        "bind": f"{host}:{settings.port}",
        # One process in embedded mode: the in-process job queue lives inside it.
        "workers": 1 if embedded else (workers or int(os.environ.get("WEB_CONCURRENCY", "3"))),
        "worker_class": "gthread",
        "threads": threads or 8,
        "timeout": 30,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": "-",
        "logger_class": "app.web.access_log.RedactingLogger",  # no tokens in the access log
        "max_requests": 0 if embedded else 10000,
        "max_requests_jitter": 0 if embedded else 1000,
        "post_worker_init": post_worker_init,
    }
    _Gunicorn(settings, options).run()
