"""The runtime's switches are declared settings, not attributes it hopes to find: the
outbox relay follows DatabaseSettings.outbox_relay_enabled (HALLWAY_OUTBOX_RELAY_ENABLED),
and a service that produces events without a database is refused, not left silent."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hallway_common.config import DatabaseSettings, ServiceSettings, load_settings
from hallway_common.contracts import produced_by
from hallway_common.runtime import _outbox_relay_enabled


def _rt(produces: bool, pool: object | None) -> SimpleNamespace:
    return SimpleNamespace(name="feed", produces=produced_by("feed") if produces else [], pool=pool)


def test_the_relay_runs_where_events_are_produced_unless_turned_off(monkeypatch) -> None:
    assert _outbox_relay_enabled(_rt(True, object()), DatabaseSettings()) is True
    monkeypatch.setenv("HALLWAY_OUTBOX_RELAY_ENABLED", "false")
    off = load_settings(DatabaseSettings)
    assert _outbox_relay_enabled(_rt(True, object()), off) is False


def test_no_relay_where_nothing_is_produced() -> None:
    assert _outbox_relay_enabled(_rt(False, object()), DatabaseSettings()) is False
    assert _outbox_relay_enabled(_rt(False, None), ServiceSettings()) is False


def test_producing_without_a_database_is_refused() -> None:
    with pytest.raises(RuntimeError, match="no database"):
        _outbox_relay_enabled(_rt(True, None), ServiceSettings())
