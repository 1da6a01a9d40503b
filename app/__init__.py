"""qbslack web application package: `app:create_app()` is the WSGI app."""

from app.factory import create_app

__all__ = ["create_app"]
