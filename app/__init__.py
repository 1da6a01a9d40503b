"""qbslack's face (web, Slack, CLI) and, in app.core, the ground every package builds on.

`app:create_app()` is the WSGI app. Flask is imported only when it is asked for, so that
`import app.core.db` (models, migrations, jobs) loads nothing of the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.web.factory import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        # Imported on first use: the face loads Flask, Bolt and spyne, the ground must not.
        from app.web.factory import create_app

        return create_app
    raise AttributeError(f"module 'app' has no attribute {name!r}")
