"""The Procfile's gunicorn settings module loads, and its worker hook freezes the app's objects."""

from __future__ import annotations

import contextlib
import gc
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from gunicorn.app.wsgiapp import WSGIApplication

from app.web.access_log import RedactingLogger
from app.web.gunicorn_conf import post_worker_init
from tests.support.paths import REPO
from tests.support.processes import free_port, service_env, wait_http

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
    assert cfg.logger_class is RedactingLogger


def test_the_worker_hook_freezes_what_the_app_allocated():
    try:
        post_worker_init(object())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the rest of the suite builds and drops many apps


def test_the_access_log_never_shows_a_download_token_or_an_oauth_code(tmp_path):
    """gunicorn as the Procfile runs it, with an access log: the secrets are not in it."""
    log_file = tmp_path / "access.log"
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn, "app:create_app()", "-c", "python:app.web.gunicorn_conf"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", str(log_file)],
        cwd=REPO,
        env=service_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", proc)
        for path in (
            "/qwc/SECRETDOWNLOADTOKEN",
            "/slack/oauth_redirect?code=SECRETOAUTHCODE&state=SECRETSTATE",
        ):
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(base + path, timeout=10).close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    logged = log_file.read_text()
    assert "/qwc/[redacted]" in logged and "/slack/oauth_redirect" in logged
    for secret in ("SECRETDOWNLOADTOKEN", "SECRETOAUTHCODE", "SECRETSTATE"):
        assert secret not in logged
