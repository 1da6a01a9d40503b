"""Alembic migrations (run with `qbslack db upgrade`)."""
