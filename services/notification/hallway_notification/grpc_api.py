"""NotificationService over gRPC: translates protos to ``inbox`` calls and back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import grpc

from hallway.notification.v1 import notification_pb2 as pb
from hallway.notification.v1 import notification_pb2_grpc as pb_grpc
from hallway_common.fields import timestamp
from hallway_common.identity import require_person
from hallway_common.pagination import page_size
from hallway_notification import inbox
from hallway_notification.streams import StreamClosed, StreamHub

KIND_TO_PROTO = {
    inbox.MENTION: pb.NOTIFICATION_KIND_MENTION,
    inbox.NEW_FOLLOWER: pb.NOTIFICATION_KIND_NEW_FOLLOWER,
}


def to_proto(row: asyncpg.Record) -> pb.Notification:
    return pb.Notification(
        id=str(row["id"]),
        person_id=str(row["person_id"]),
        kind=KIND_TO_PROTO.get(row["kind"], pb.NOTIFICATION_KIND_UNSPECIFIED),
        actor_id=str(row["actor_id"]),
        post_id=str(row["post_id"]) if row["post_id"] else "",
        snippet=row["snippet"],
        created_at=timestamp(row["created_at"]),
        read=row["read_at"] is not None,
    )


class NotificationServicer(pb_grpc.NotificationServiceServicer):
    def __init__(self, pool: asyncpg.Pool, hub: StreamHub) -> None:
        self.pool = pool
        self.hub = hub

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
