"""NotificationService over gRPC: translates protos to ``inbox`` calls and back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg
import grpc

from hallway.notification.v1 import notification_pb2 as pb
from hallway.notification.v1 import notification_pb2_grpc as pb_grpc
from hallway_common.errors import InvalidArgument
from hallway_common.fields import timestamp
from hallway_common.identity import current_actor, require_person
from hallway_common.pagination import page_size
from hallway_notification import inbox, prefs
from hallway_notification.kinds import CHANNELS, EMAIL, IN_APP, KINDS
from hallway_notification.metrics import UNSUBSCRIBES
from hallway_notification.prefs import NoTokens, UnsubscribeTokens
from hallway_notification.streams import StreamClosed, StreamHub

KIND_TO_PROTO = {
    inbox.MENTION: pb.NOTIFICATION_KIND_MENTION,
    inbox.NEW_FOLLOWER: pb.NOTIFICATION_KIND_NEW_FOLLOWER,
    inbox.REPLY: pb.NOTIFICATION_KIND_REPLY,
    inbox.REACTION: pb.NOTIFICATION_KIND_REACTION,
    inbox.COMMUNITY_INVITE: pb.NOTIFICATION_KIND_COMMUNITY_INVITE,
    inbox.JOIN_REQUEST: pb.NOTIFICATION_KIND_JOIN_REQUEST,
    inbox.REQUEST_APPROVED: pb.NOTIFICATION_KIND_REQUEST_APPROVED,
    inbox.COMMUNITY_POST: pb.NOTIFICATION_KIND_COMMUNITY_POST,
}

CHANNEL_TO_PROTO = {
    IN_APP: pb.NOTIFICATION_CHANNEL_IN_APP,
    EMAIL: pb.NOTIFICATION_CHANNEL_EMAIL,
}
CHANNEL_FROM_PROTO = {v: k for k, v in CHANNEL_TO_PROTO.items()}
DIGEST_TO_PROTO = {
    prefs.OFF: pb.DIGEST_FREQUENCY_OFF,
    prefs.DAILY: pb.DIGEST_FREQUENCY_DAILY,
    prefs.WEEKLY: pb.DIGEST_FREQUENCY_WEEKLY,
}
DIGEST_FROM_PROTO = {v: k for k, v in DIGEST_TO_PROTO.items()}


def preferences_to_proto(
    p: prefs.Preferences,
) -> tuple[list[pb.Preference], pb.DigestFrequency.ValueType]:
    """Every known kind x channel, in kind then channel order, and the digest."""
    items = [
        pb.Preference(kind=k, channel=CHANNEL_TO_PROTO[c], enabled=p.enabled(k, c))
        for k in KINDS
        for c in CHANNELS
    ]
    return items, DIGEST_TO_PROTO[p.digest]


def preferences_from_proto(
    items: list[pb.Preference], digest: int
) -> tuple[list[tuple[str, str, bool]], str | None]:
    """(kind, channel, enabled) entries and the digest (None: unchanged), validated."""
    entries = []
    for item in items:
        channel = CHANNEL_FROM_PROTO.get(item.channel)
        if channel is None:
            raise InvalidArgument(f"preferences: channel must be one of {CHANNELS}")
        entries.append((item.kind, channel, item.enabled))
    if digest != pb.DIGEST_FREQUENCY_UNSPECIFIED and digest not in DIGEST_FROM_PROTO:
        raise InvalidArgument("digest: not a DigestFrequency")
    return prefs.check_update(entries, DIGEST_FROM_PROTO.get(digest))


def _text(row: Mapping[str, Any], key: str) -> str:
    """A column as a proto string: '' for NULL (and for a column not selected)."""
    value = row.get(key)
    return "" if value is None else str(value)


def to_proto(row: asyncpg.Record | Mapping[str, Any]) -> pb.Notification:
    return pb.Notification(
        id=str(row["id"]),
        person_id=str(row["person_id"]),
        kind=KIND_TO_PROTO.get(row["kind"], pb.NOTIFICATION_KIND_UNSPECIFIED),
        actor_id=str(row["actor_id"]),
        post_id=_text(row, "post_id"),
        snippet=row["snippet"],
        created_at=timestamp(row["created_at"]),
        read=row["read_at"] is not None,
        comment_id=_text(row, "comment_id"),
        community_id=_text(row, "community_id"),
        community_name=_text(row, "community_name"),
        reaction=_text(row, "reaction"),
        actor_count=row.get("actor_count") or 1,
    )


class NotificationServicer(pb_grpc.NotificationServiceServicer):
    def __init__(
        self,
        pool: asyncpg.Pool,
        hub: StreamHub,
        tokens: UnsubscribeTokens | NoTokens | None = None,
    ) -> None:
        self.pool = pool
        self.hub = hub
        self.tokens = tokens or NoTokens()

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListNotificationsResponse:
        page = await inbox.list_notifications(
            self.pool,
            require_person(),
            page_size(request.page_size, 20, 100),
            request.page_token,
            request.unread_only,
        )
        return pb.ListNotificationsResponse(
            notifications=[to_proto(r) for r in page.rows],
            next_page_token=page.next_token,
            unread_count=page.unread_count,
        )

    async def MarkRead(
        self, request: pb.MarkReadRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkReadResponse:
        person_id = require_person()
        ids = inbox.check_mark_read(list(request.notification_ids), request.all)
        updated, unread = await inbox.do_mark_read(self.pool, person_id, ids, request.all)
        return pb.MarkReadResponse(updated=updated, unread_count=unread)

    async def StreamNotifications(
        self, request: pb.StreamNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamNotificationsResponse]:
        person_id = require_person()
        sub = self.hub.subscribe(person_id)  # before the count: nothing slips between
        try:
            count = await inbox.unread_count(self.pool, person_id)
            yield pb.StreamNotificationsResponse(unread_count=count)
            while True:
                try:
                    delivery = await sub.next()
                except StreamClosed as closed:
                    await context.abort(closed.code, closed.reason)
                yield pb.StreamNotificationsResponse(
                    unread_count=delivery.unread_count, notification=to_proto(delivery.row)
                )
        finally:  # client cancel, abort or server stop
            self.hub.unsubscribe(sub)

    async def GetPreferences(
        self, request: pb.GetPreferencesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPreferencesResponse:
        items, digest = preferences_to_proto(await prefs.get(self.pool, require_person()))
        return pb.GetPreferencesResponse(preferences=items, digest=digest)

    async def UpdatePreferences(
        self, request: pb.UpdatePreferencesRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdatePreferencesResponse:
        person_id = require_person()
        entries, digest = preferences_from_proto(list(request.preferences), request.digest)
        items, frequency = preferences_to_proto(
            await prefs.do_update(self.pool, person_id, entries, digest)
        )
        return pb.UpdatePreferencesResponse(preferences=items, digest=frequency)

    async def Unsubscribe(
        self, request: pb.UnsubscribeRequest, context: grpc.aio.ServicerContext
    ) -> pb.UnsubscribeResponse:
        current_actor()  # any verified caller: the token, signed by this service, decides
        what = self.tokens.verify(request.token)
        if not request.validate_only:
            await prefs.do_unsubscribe(self.pool, what)
            UNSUBSCRIBES.labels(what.kind).inc()
        return pb.UnsubscribeResponse(kind=what.kind, channel=CHANNEL_TO_PROTO[what.channel])
