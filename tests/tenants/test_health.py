"""A company file's health: states, thresholds and words, as a pure function of its columns."""

from __future__ import annotations

import datetime as dt

import pytest

from tenants.enums import ConnectionStatus, TenantStatus
from tenants.health import Health, Vitals, ago, connection_health, stale_after

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def _health(minutes_ago: float | None, **kw: object) -> Health:
    vitals = Vitals(
        status=str(kw.get("status", ConnectionStatus.OK)),
        tenant_status=str(kw.get("tenant_status", TenantStatus.ACTIVE)),
        last_poll_at=None if minutes_ago is None else NOW - dt.timedelta(minutes=minutes_ago),
        run_every_minutes=kw.get("every"),  # type: ignore[arg-type]
    )
    override = kw.get("override")
    return connection_health(
        vitals,
        now=NOW,
        default_every=5,
        stale_override=override,  # type: ignore[arg-type]
    ).state


def test_stale_after_is_three_intervals_and_never_under_fifteen_minutes() -> None:
    assert stale_after(None, default_every=5, override=None) == dt.timedelta(minutes=15)
    assert stale_after(1, default_every=5, override=None) == dt.timedelta(minutes=15)
    assert stale_after(60, default_every=5, override=None) == dt.timedelta(hours=3)
    assert stale_after(60, default_every=5, override=0.5) == dt.timedelta(seconds=30)


@pytest.mark.parametrize(
    ("minutes_ago", "kw", "state"),
    [
        (None, {}, Health.NEW),
        (3, {}, Health.OK),
        (14.9, {}, Health.OK),
        (15, {}, Health.STALE),
        (100, {"every": 60}, Health.OK),
        (181, {"every": 60}, Health.STALE),
        (3, {"status": ConnectionStatus.ERROR}, Health.ERROR),
        (3, {"status": ConnectionStatus.WRONG_FILE}, Health.WRONG_FILE),
        # A Web Connector that stopped coming by makes its last session's outcome old news.
        (60, {"status": ConnectionStatus.ERROR}, Health.STALE),
        (3, {"tenant_status": TenantStatus.DISCONNECTED}, Health.PAUSED),
        (600, {"tenant_status": TenantStatus.UNINSTALLED}, Health.PAUSED),
        (3, {"status": ConnectionStatus.DISABLED}, Health.DISABLED),
        (3, {"tenant_status": TenantStatus.DISABLED}, Health.DISABLED),
    ],
)
def test_states(minutes_ago: float | None, kw: dict[str, object], state: Health) -> None:
    assert _health(minutes_ago, **kw) == state


def test_words() -> None:
    vitals = Vitals("ok", "active", NOW - dt.timedelta(hours=3, minutes=5), None)
    health = connection_health(vitals, now=NOW, default_every=5, stale_override=None)
    assert health.summary == "Stale · last poll 3 h ago"
    assert [ago(s) for s in (5, 90, 7200, 3 * 86400)] == [
        "just now",
        "1 min ago",
        "2 h ago",
        "3 days ago",
    ]
