"""The Procfile's gunicorn settings module loads, and its worker hook freezes the app's objects."""

from __future__ import annotations

import gc
import shlex
import sys

from gunicorn.app.wsgiapp import WSGIApplication

from app.web.gunicorn_conf import post_worker_init
from tests.support.paths import REPO

PROCFILE = REPO / "Procfile"


def test_the_procfile_web_command_loads_our_settings(monkeypatch):
    web = next(line for line in PROCFILE.read_text().splitlines() if line.startswith("web:"))
    argv = shlex.split(
        web.removeprefix("web:").replace("$PORT", "8000").replace("${WEB_CONCURRENCY:-3}", "3")
    )
    monkeypatch.setattr(sys, "argv", argv)
    cfg = WSGIApplication().cfg
    assert cfg.post_worker_init is post_worker_init
    assert cfg.worker_class_str == "gthread" and cfg.threads == 8


def test_the_worker_hook_freezes_what_the_app_allocated():
    try:
        post_worker_init(object())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the rest of the suite builds and drops many apps
