"""Every environment variable a process reads is documented in docs/conventions.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from hallway_common.config import ENV_PREFIX
from hallway_feed.app import FeedSettings
from hallway_gateway.settings import GatewaySettings
from hallway_notification.app import NotificationSettings
from hallway_profile.app import ProfileSettings
from hallway_search.indices import SearchSettings

CONVENTIONS = (Path(__file__).resolve().parents[2] / "docs" / "conventions.md").read_text()


@pytest.mark.parametrize(
    "settings",
    [ProfileSettings, FeedSettings, SearchSettings, NotificationSettings, GatewaySettings],
)
def test_every_setting_is_documented(settings: type[BaseSettings]) -> None:
    undocumented = [
        f"{ENV_PREFIX}{name.upper()}"
        for name in settings.model_fields
        if f"`{ENV_PREFIX}{name.upper()}`" not in CONVENTIONS
        and f"{ENV_PREFIX}{name.upper()}` /" not in CONVENTIONS
        and f"/ `{ENV_PREFIX}{name.upper()}`" not in CONVENTIONS
    ]
    assert undocumented == []
