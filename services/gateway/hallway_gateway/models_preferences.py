"""Bodies of the notification-preference and unsubscribe endpoints (api_preferences.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Frequency = Literal["off", "daily", "weekly"]
Channel = Literal["in_app", "email"]


class ChannelSwitches(BaseModel):
    """Whether notifications of one kind reach the person in the app and by e-mail."""

    in_app: bool = Field(description="Listed in the inbox, live stream and digest.")
    email: bool = Field(description="An immediate e-mail for each one.")


class NotificationPreferences(BaseModel):
    """Every notification kind with its channels, and the e-mail digest frequency.

    Defaults: in-app on for every kind, e-mail on for `mention` only, digest `weekly`."""

    kinds: dict[str, ChannelSwitches] = Field(
        description="By kind: mention, new_follower, reply, reaction, community_invite, "
        "join_request, request_approved, community_post (later versions may add kinds)."
    )
    digest: Frequency = Field(
        description="How often an e-mail lists the unread notifications no digest listed yet."
    )


class ChannelSwitchesUpdate(BaseModel):
    """The channels of one kind to change; absent (or null) ones keep their value."""

    model_config = ConfigDict(extra="forbid")

    in_app: bool | None = None
    email: bool | None = None


class NotificationPreferencesUpdate(BaseModel):
    """What to change; kinds and channels left out, and a missing digest, stay as they are."""

    model_config = ConfigDict(extra="forbid")

    kinds: dict[str, ChannelSwitchesUpdate] = Field(
        default_factory=dict,
        max_length=50,
        description="By kind (see GET); an unknown kind is a 400 and changes nothing.",
        examples=[{"new_follower": {"email": True}, "reaction": {"in_app": False}}],
    )
    digest: Frequency | None = None


class Unsubscribed(BaseModel):
    """What an unsubscribe link turns off (GET: would turn off; POST: turned off)."""

    kind: str = Field(description="The notification kind, or `digest` for the e-mail digest.")
    channel: Channel
    unsubscribed: bool = Field(description="False for GET (nothing changed), true after POST.")
