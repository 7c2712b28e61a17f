"""The notification service as a process against the real PostgreSQL, Kafka and SMTP sink.

Events are published the way the feed and profile services publish them (CloudEvents
headers, keyed by the aggregate id) onto this session's prefixed topics; results are
checked over gRPC, on the metrics endpoint, on the DLQ topic and in the SMTP sink.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from hallway.notification.v1 import notification_pb2 as pb
from hallway.notification.v1 import notification_pb2_grpc as pb_grpc
from hallway_common.contracts import PostCreated, PostDeleted, dlq_topic, model_of
from hallway_common.events import Event, new_event
from hallway_common.tracing import new_traceparent
from hallway_dev import testing
from hallway_dev.testing import (
    KAFKA,
    SMTP_MAILDIR,
    SMTP_PORT,
    ServiceProcess,
    eventually,
    first_record,
    headers_of,
    migrated_database,
    service_process,
)
from hallway_notification import mailer
from hallway_notification.streams import LISTENER_APP_NAME

pytestmark = pytest.mark.integration


class Service:
    def __init__(self, proc: ServiceProcess, dsn: str) -> None:
        self.proc = proc
        self.dsn = dsn
        self.channel = testing.service_channel(proc.grpc_address, deadline=10)
        self.stub = pb_grpc.NotificationServiceStub(self.channel)

    async def list(self, person: uuid.UUID, **kw: Any) -> pb.ListNotificationsResponse:
        return await self.stub.ListNotifications(
            pb.ListNotificationsRequest(**kw), metadata=testing.as_person(str(person))
        )

    async def metric(self, name: str, **labels: str) -> float:
        """Sum of a metric's samples whose labels include ``labels``."""
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{self.proc.metrics_port}/metrics")).text
        total = 0.0
        for line in text.splitlines():
            match = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
            if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
                total += float(match.group(2))
        return total


@pytest.fixture(scope="module")
async def dsn(stack: None) -> str:
    return await migrated_database("notification", ["hallway_notification"])


@pytest.fixture(scope="module")
async def service(dsn: str, topic_prefix: str) -> AsyncIterator[Service]:
    proc = service_process("notification", topic_prefix, database_url=dsn)
    await asyncio.to_thread(proc.start)
    svc = Service(proc, dsn)
    try:
        yield svc
    finally:
        await svc.channel.close()
        await asyncio.to_thread(proc.stop)


@pytest.fixture(scope="module")
async def producer(stack: None) -> AsyncIterator[AIOKafkaProducer]:
    prod = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
    await prod.start()
    try:
        yield prod
    finally:
        await prod.stop()


async def publish(
    producer: AIOKafkaProducer, prefix: str, event: Event, body: bytes | None = None
) -> None:
    await producer.send_and_wait(
        prefix + event.topic,
        event.data if body is None else body,
        key=event.key.encode(),
        headers=[(k, v.encode()) for k, v in event.headers().items()],
    )


def post_created(
    author: uuid.UUID, mentions: list[uuid.UUID], text: str = "hello", post: uuid.UUID | None = None
) -> Event:
    now = datetime.now(UTC)
    payload = PostCreated(
        post_id=post or uuid.uuid4(),
        author_id=author,
        text=text,
        mentions=mentions,
        version=1,
        created_at=now,
        occurred_at=now,
    )
    return new_event("hallway.feed.post.created", payload, new_traceparent())


def post_deleted(author: uuid.UUID, post: uuid.UUID) -> Event:
    payload = PostDeleted(post_id=post, author_id=author, version=2, occurred_at=datetime.now(UTC))
    return new_event("hallway.feed.post.deleted", payload, new_traceparent())


def follow(follower: uuid.UUID, followee: uuid.UUID, kind: str = "created") -> Event:
    event_type = f"hallway.profile.follow.{kind}"
    payload = model_of(event_type)(
        follower_id=follower, followee_id=followee, occurred_at=datetime.now(UTC)
    )
    return new_event(event_type, payload, new_traceparent())


async def inbox_of(service: Service, person: uuid.UUID, n: int) -> pb.ListNotificationsResponse:
    """The person's inbox once it holds ``n`` notifications (bounded wait)."""

    async def check() -> pb.ListNotificationsResponse | None:
        page = await service.list(person, page_size=100)
        return page if len(page.notifications) == n else None

    return await eventually(check, within=30, what=f"{n} notification(s) for {person}")


async def test_mentions_are_listed_and_marked_read(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    author, ana, bo = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    text = "Status update for @ana and @bo: " + "details " * 40
    event = post_created(author, [ana, bo, author, ana], text)
    await publish(producer, topic_prefix, event)

    ana_inbox = await inbox_of(service, ana, 1)
    bo_inbox = await inbox_of(service, bo, 1)
    note = ana_inbox.notifications[0]
    assert note.kind == pb.NOTIFICATION_KIND_MENTION
    assert note.actor_id == str(author) and note.person_id == str(ana)
    assert note.post_id == str(event.payload().post_id)  # type: ignore[attr-defined]
    assert note.snippet.startswith("Status update for @ana") and len(note.snippet) <= 140
    assert not note.read and ana_inbox.unread_count == 1
    # the author mentioning themselves is not notified
    assert len((await service.list(author)).notifications) == 0

    # Ana marks Bo's notification with hers: Bo's is never touched.
    marked = await service.stub.MarkRead(
        pb.MarkReadRequest(
            notification_ids=[note.id, bo_inbox.notifications[0].id, str(uuid.uuid4())],
        ),
        metadata=testing.as_person(str(ana)),
    )
    assert (marked.updated, marked.unread_count) == (1, 0)
    assert (await service.list(bo)).unread_count == 1
    assert (await service.list(ana)).notifications[0].read
    assert len((await service.list(ana, unread_only=True)).notifications) == 0

    marked = await service.stub.MarkRead(
        pb.MarkReadRequest(all=True), metadata=testing.as_person(str(bo))
    )
    assert (marked.updated, marked.unread_count) == (1, 0)
    assert await service.metric("hallway_notifications_created_total", kind="mention") >= 2


async def test_new_follower_and_pagination(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    person = uuid.uuid4()
    followers = [uuid.uuid4() for _ in range(5)]
    for follower in followers:
        await publish(producer, topic_prefix, follow(follower, person))
    await publish(producer, topic_prefix, follow(followers[0], person, "deleted"))
    everything = await inbox_of(service, person, 5)
    assert {n.kind for n in everything.notifications} == {pb.NOTIFICATION_KIND_NEW_FOLLOWER}
    assert {n.actor_id for n in everything.notifications} == {str(f) for f in followers}
    stamps = [(n.created_at.ToDatetime(), n.id) for n in everything.notifications]
    assert stamps == sorted(stamps, reverse=True)  # newest first

    seen, token, pages = [], "", 0
    while True:
        page = await service.list(person, page_size=2, page_token=token)
        seen += [n.id for n in page.notifications]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3 and seen == [n.id for n in everything.notifications]

    await service.stub.MarkRead(
        pb.MarkReadRequest(notification_ids=seen[:2]), metadata=testing.as_person(str(person))
    )
    unread = await service.list(person, unread_only=True, page_size=2)
    assert [n.id for n in unread.notifications] == seen[2:4] and unread.unread_count == 3
    rest = await service.list(person, unread_only=True, page_token=unread.next_page_token)
    assert [n.id for n in rest.notifications] == seen[4:]
    # the unfollow changed nothing (and was processed: same partition, after the rest)
    assert len((await service.list(person)).notifications) == 5


async def test_same_event_twice_notifies_once(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    person = uuid.uuid4()
    topic = topic_prefix + "hallway.feed.post.v1"
    before = await service.metric("hallway_consumer_duplicates_total", topic=topic)
    event = post_created(uuid.uuid4(), [person])
    await publish(producer, topic_prefix, event)
    await publish(producer, topic_prefix, event)

    async def duplicate_seen() -> bool:
        return await service.metric("hallway_consumer_duplicates_total", topic=topic) > before

    await eventually(duplicate_seen, within=30, what="the second copy skipped as a duplicate")
    assert len((await service.list(person)).notifications) == 1

    # The data itself refuses a duplicate, even without processed_events.
    conn = await asyncpg.connect(service.dsn)
    try:
        row = await conn.fetchrow("SELECT * FROM notifications WHERE person_id = $1", person)
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                """INSERT INTO notifications (person_id, kind, actor_id, post_id, source_event_id)
                   VALUES ($1, $2, $3, $4, $5)""",
                person, row["kind"], row["actor_id"], uuid.uuid4(), row["source_event_id"],
            )  # fmt: skip
    finally:
        await conn.close()


async def test_live_stream_gets_new_notifications(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    person = uuid.uuid4()
    streams_before = await service.metric("hallway_notification_streams_active")
    call = service.stub.StreamNotifications(
        pb.StreamNotificationsRequest(), metadata=testing.as_person(str(person))
    )
    first = await asyncio.wait_for(call.read(), 10)
    assert first.unread_count == 0 and not first.HasField("notification")
    assert await service.metric("hallway_notification_streams_active") == streams_before + 1

    follower = uuid.uuid4()
    await publish(producer, topic_prefix, follow(follower, person))
    message = await asyncio.wait_for(call.read(), 30)
    assert message.unread_count == 1
    assert message.notification.kind == pb.NOTIFICATION_KIND_NEW_FOLLOWER
    assert message.notification.actor_id == str(follower)

    event = post_created(uuid.uuid4(), [person], "ping @you")
    await publish(producer, topic_prefix, event)
    message = await asyncio.wait_for(call.read(), 30)
    assert message.unread_count == 2 and message.notification.snippet == "ping @you"

    call.cancel()

    async def stream_closed() -> bool:
        return await service.metric("hallway_notification_streams_active") == streams_before

    await eventually(stream_closed, within=10, what="the cancelled stream cleaned up")


async def test_stream_across_replicas(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str, processes: list
) -> None:
    """A stream on one replica hears about notifications another replica consumed.

    The second replica shares the database but consumes topics nobody publishes to,
    so whatever its streams receive can only have come through NOTIFY.
    """
    other = service_process("notification", topic_prefix + "idle.", database_url=service.dsn)
    processes.append(other)
    await asyncio.to_thread(other.start)
    async with testing.service_channel(other.grpc_address) as ch:
        stub = pb_grpc.NotificationServiceStub(ch)
        people = [uuid.uuid4() for _ in range(6)]
        calls = [
            stub.StreamNotifications(
                pb.StreamNotificationsRequest(), metadata=testing.as_person(str(p))
            )
            for p in people
        ]
        for call in calls:
            assert (await asyncio.wait_for(call.read(), 10)).unread_count == 0
        for person in people:
            await publish(producer, topic_prefix, post_created(uuid.uuid4(), [person]))
        for person, call in zip(people, calls, strict=True):
            message = await asyncio.wait_for(call.read(), 45)
            assert message.notification.person_id == str(person)
            call.cancel()


async def test_stream_ends_when_the_live_feed_is_lost_and_recovers(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    """Losing the LISTEN session ends open streams (they may have missed something);
    the replica reconnects and new streams work again."""
    person = uuid.uuid4()
    call = service.stub.StreamNotifications(
        pb.StreamNotificationsRequest(), metadata=testing.as_person(str(person))
    )
    assert (await asyncio.wait_for(call.read(), 10)).unread_count == 0
    conn = await asyncpg.connect(service.dsn)
    try:
        killed = await conn.fetchval(
            """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = $1""",
            LISTENER_APP_NAME,
        )
        assert killed == 1
    finally:
        await conn.close()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await asyncio.wait_for(call.read(), 60)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE

    async def fresh_stream_works() -> bool:
        again = service.stub.StreamNotifications(
            pb.StreamNotificationsRequest(), metadata=testing.as_person(str(person))
        )
        try:
            await asyncio.wait_for(again.read(), 10)
            await publish(producer, topic_prefix, follow(uuid.uuid4(), person))
            message = await asyncio.wait_for(again.read(), 10)
            return message.notification.person_id == str(person)
        except (grpc.aio.AioRpcError, TimeoutError):
            return False
        finally:
            again.cancel()

    await eventually(fresh_stream_works, within=60, interval=1, what="streams after reconnect")


async def test_malformed_event_is_dead_lettered_and_the_next_one_processed(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    person = uuid.uuid4()
    good = post_created(uuid.uuid4(), [person], "after the poison")
    poison = post_created(uuid.uuid4(), [person], "poison", post=uuid.UUID(good.key))
    await publish(producer, topic_prefix, poison, body=b'{"post_id": "not-a-uuid"}')
    await publish(producer, topic_prefix, good)  # same key: same partition, after the poison

    page = await inbox_of(service, person, 1)
    assert page.notifications[0].snippet == "after the poison"

    parked = await first_record(
        topic_prefix + dlq_topic("hallway-notification"),
        lambda r: headers_of(r).get("ce_id") == poison.id,
    )
    found = headers_of(parked)
    assert found["dlq_error"].startswith("ValidationError")
    assert found["dlq_original_topic"] == topic_prefix + "hallway.feed.post.v1"


async def test_deleted_post_leaves_no_trace(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    author, person = uuid.uuid4(), uuid.uuid4()
    created = post_created(author, [person], "soon gone")
    post = uuid.UUID(created.key)
    await publish(producer, topic_prefix, created)
    await inbox_of(service, person, 1)

    await publish(producer, topic_prefix, post_deleted(author, post))
    gone = await inbox_of(service, person, 0)
    assert gone.unread_count == 0

    # A replay of the creation (new event id) cannot bring it back.
    await publish(producer, topic_prefix, post_created(author, [person], "soon gone", post=post))
    marker = post_created(author, [person], "marker", post=None)
    await publish(producer, topic_prefix, marker)
    page = await inbox_of(service, person, 1)
    assert page.notifications[0].snippet == "marker"


async def test_bad_requests_are_invalid_argument(service: Service) -> None:
    someone = testing.as_person(str(uuid.uuid4()))
    cases = [
        service.list(uuid.uuid4(), page_token="forged"),
        service.list(uuid.uuid4(), page_size=-1),
        service.stub.MarkRead(pb.MarkReadRequest(), metadata=someone),
        service.stub.MarkRead(pb.MarkReadRequest(notification_ids=["x"]), metadata=someone),
    ]
    for call in cases:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()


async def test_an_inbox_is_read_only_by_its_person(service: Service) -> None:
    """Whose inbox is read comes from the verified identity; there is no field to forge."""
    as_gateway = testing.signer().metadata("service:gateway")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await service.stub.ListNotifications(pb.ListNotificationsRequest(), metadata=as_gateway)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    async with testing.service_channel(service.proc.grpc_address, identity=None) as bare:
        stream = pb_grpc.NotificationServiceStub(bare).StreamNotifications(
            pb.StreamNotificationsRequest()
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stream.read()
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def _mail_containing(marker: str) -> str | None:
    folder = SMTP_MAILDIR / "new"
    for path in sorted(folder.glob("*.eml"), reverse=True):
        text = path.read_text(errors="replace")
        if marker in text:
            return text
    return None


async def test_mailer_sends_through_the_real_smtp_sink(stack: None) -> None:
    marker = f"direct-{uuid.uuid4().hex}"
    config = mailer.SmtpConfig("127.0.0.1", SMTP_PORT, "hallway@localhost")
    msg = mailer.mention_email("hallway@localhost", "ana@example.com", marker, "http://h")
    results = await asyncio.to_thread(mailer.send_batch, config, [msg])
    assert results == [None]
    mail = _mail_containing(marker)
    assert mail is not None
    assert "X-Envelope-To: ana@example.com" in mail
    assert "Subject: You were mentioned on Hallway" in mail


async def test_mention_email_for_a_person_with_a_known_address(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    person, nobody = uuid.uuid4(), uuid.uuid4()
    address = f"p{uuid.uuid4().hex[:10]}@example.com"
    # The address arrives as profile publishes it: on the person topic.
    await publish(producer, topic_prefix, person_event(person, 1, email=address))
    await eventually(
        lambda: _address(service, person), within=30, what="the address from the person event"
    )
    before = await service.metric("hallway_notification_emails_sent_total")
    marker = f"mail-{uuid.uuid4().hex}"
    await publish(producer, topic_prefix, post_created(uuid.uuid4(), [person, nobody], marker))

    mail = await eventually(lambda: _mail_containing(marker), within=30, what="the mention email")
    assert f"X-Envelope-To: {address}" in str(mail)
    assert await service.metric("hallway_notification_emails_sent_total") == before + 1
    # a person without a known address has the notification but no email queued
    await inbox_of(service, nobody, 1)
    conn = await asyncpg.connect(service.dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM email_outbox") == 0
    finally:
        await conn.close()


def person_event(person: uuid.UUID, version: int, **fields: object) -> Event:
    event_type = f"hallway.profile.person.{'created' if version == 1 else 'updated'}"
    payload = model_of(event_type)(
        person_id=person,
        handle=f"p{person.hex[:8]}",
        display_name="P",
        version=version,
        occurred_at=datetime.now(UTC),
        **fields,
    )
    return new_event(event_type, payload, new_traceparent())


async def _address(service: Service, person: uuid.UUID) -> str | None:
    conn = await asyncpg.connect(service.dsn)
    try:
        return await conn.fetchval(
            "SELECT coalesce(email, '(none)') FROM email_addresses WHERE person_id = $1", person
        )
    finally:
        await conn.close()


async def test_addresses_follow_the_person_topic_newest_version_wins(
    service: Service, producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    person = uuid.uuid4()
    topic = f"{topic_prefix}hallway.profile.person.v1"
    seen = await service.metric("hallway_consumer_processed_total", topic=topic)
    await publish(producer, topic_prefix, person_event(person, 2, email="new@example.com"))
    # A replayed older version does not bring an old address back ...
    await publish(producer, topic_prefix, person_event(person, 1, email="old@example.com"))

    async def both_applied() -> bool:
        return await service.metric("hallway_consumer_processed_total", topic=topic) >= seen + 2

    await eventually(both_applied, within=30, what="both versions consumed")
    assert await _address(service, person) == "new@example.com"
    # ... and a removal (inactive entry) clears it: no mail to a removed person.
    await publish(
        producer, topic_prefix, person_event(person, 3, email="new@example.com", active=False)
    )

    async def cleared() -> bool:
        return await _address(service, person) == "(none)"

    await eventually(cleared, within=30, what="address cleared by the removal")
