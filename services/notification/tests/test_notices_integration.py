"""Feed's notices (hallway.feed.notice.v1) with the notification service as a process
against the real PostgreSQL, Kafka and SMTP sink: every kind, grouping of replies and
reactions, replays, retractions, revoked access, preferences, e-mails and the digest.

Notices are published as feed publishes them (CloudEvents headers, keyed by scope) on
this module's own prefixed topics; results are checked over gRPC, in the database, on
the metrics endpoint and in the SMTP sink.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from hallway.notification.v1 import notification_pb2 as pb
from hallway.notification.v1 import notification_pb2_grpc as pb_grpc
from hallway_common.contracts import (
    AccessRevoked,
    NoticeCreated,
    NoticeRetracted,
    PostCreated,
    dlq_topic,
    model_of,
)
from hallway_common.events import Event, new_event
from hallway_common.tracing import new_traceparent
from hallway_dev import testing
from hallway_dev.testing import (
    KAFKA,
    SMTP_MAILDIR,
    ServiceProcess,
    eventually,
    first_record,
    headers_of,
    metric,
    migrated_database,
    service_process,
)

pytestmark = pytest.mark.integration

DAILY_SECONDS = 3
NOTICE_TOPIC = "hallway.feed.notice.v1"
IN_APP, EMAIL = pb.NOTIFICATION_CHANNEL_IN_APP, pb.NOTIFICATION_CHANNEL_EMAIL


class Service:
    def __init__(self, proc: ServiceProcess, dsn: str, prefix: str) -> None:
        self.proc = proc
        self.dsn = dsn
        self.prefix = prefix
        self.channel = testing.service_channel(proc.grpc_address, deadline=10)
        self.stub = pb_grpc.NotificationServiceStub(self.channel)

    async def inbox(self, person: uuid.UUID) -> list[pb.Notification]:
        page = await self.stub.ListNotifications(
            pb.ListNotificationsRequest(page_size=100), metadata=testing.as_person(str(person))
        )
        return list(page.notifications)

    async def mark_all_read(self, person: uuid.UUID) -> None:
        await self.stub.MarkRead(
            pb.MarkReadRequest(all=True), metadata=testing.as_person(str(person))
        )

    async def update(
        self, person: uuid.UUID, *items: tuple[str, int, bool], digest: int = 0
    ) -> Any:
        return await self.stub.UpdatePreferences(
            pb.UpdatePreferencesRequest(
                preferences=[pb.Preference(kind=k, channel=c, enabled=e) for k, c, e in items],
                digest=digest,
            ),
            metadata=testing.as_person(str(person)),
        )

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    def metric(self, name: str, **labels: str) -> float:
        return metric(self.proc.metrics_port, name, **labels)


@pytest.fixture(scope="module")
async def service(stack: None, topic_prefix: str) -> AsyncIterator[Service]:
    prefix = topic_prefix + "notices."
    dsn = await migrated_database("notification", ["hallway_notification"])
    proc = service_process(
        "notification",
        prefix,
        database_url=dsn,
        digest_daily_seconds=str(DAILY_SECONDS),
        digest_poll_seconds="0.5",
        public_url="https://hallway.example.com",
    )
    await asyncio.to_thread(proc.start)
    svc = Service(proc, dsn, prefix)
    try:
        yield svc
    finally:
        await svc.channel.close()
        await asyncio.to_thread(proc.stop)


@pytest.fixture(scope="module")
async def publish(service: Service) -> AsyncIterator[Any]:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
    await producer.start()

    async def send(event: Event) -> None:
        await producer.send_and_wait(
            service.prefix + event.topic,
            event.data,
            key=event.key.encode(),
            headers=[(k, v.encode()) for k, v in event.headers().items()],
        )

    try:
        yield send
    finally:
        await producer.stop()


def notice(
    kind: str, recipients: list[uuid.UUID], actor: uuid.UUID, **fields: Any
) -> NoticeCreated:
    scope = fields.get("community_id") or fields.get("post_id") or recipients[0]
    return NoticeCreated(
        notice_id=fields.pop("notice_id", None) or uuid.uuid4(),
        scope=scope,
        kind=kind,  # type: ignore[arg-type]
        recipients=recipients,
        actor_id=actor,
        occurred_at=fields.pop("occurred_at", None) or datetime.now(UTC),
        **fields,
    )


def event(payload: Any) -> Event:
    """A new event (a new ce_id) for the payload: publishing one twice is a replay."""
    return new_event(payload.type, payload, new_traceparent())


def retracted(scope: uuid.UUID, **fields: Any) -> Event:
    return event(NoticeRetracted(scope=scope, occurred_at=datetime.now(UTC), **fields))


def revoked(community: uuid.UUID, person: uuid.UUID) -> Event:
    payload = AccessRevoked(
        scope=community, community_id=community, person_id=person, occurred_at=datetime.now(UTC)
    )
    return event(payload)


def person(person_id: uuid.UUID, name: str, address: str | None = None) -> Event:
    kind = "hallway.profile.person.created"
    payload = model_of(kind)(
        person_id=person_id,
        handle=f"p{person_id.hex[:8]}",
        display_name=name,
        version=1,
        email=address,
        occurred_at=datetime.now(UTC),
    )
    return event(payload)


async def known(service: Service, publish: Any, name: str, address: str | None = None) -> uuid.UUID:
    """A person the service knows by name (and address), as profile's events tell it."""
    who = uuid.uuid4()
    await publish(person(who, name, address))

    async def there() -> bool:
        rows = await service.fetch("SELECT 1 FROM email_addresses WHERE person_id = $1", who)
        return bool(rows)

    await eventually(there, within=30, what=f"{name} from the person event")
    return who


async def settled(service: Service, publish: Any, scope: uuid.UUID) -> None:
    """Everything published on ``scope`` before this was processed: a marker notice on
    the same key (same partition, after the rest) has reached its recipient."""
    marker = uuid.uuid4()
    await publish(event(notice("community_invite", [marker], uuid.uuid4(), community_id=scope)))

    async def arrived() -> bool:
        return len(await service.inbox(marker)) == 1

    await eventually(arrived, within=30, what="the marker notice")


async def inbox_of(service: Service, who: uuid.UUID, n: int, **match: Any) -> list[pb.Notification]:
    """The person's inbox once it holds ``n`` notifications (and the first matches)."""

    async def check() -> tuple[list[pb.Notification]] | None:
        items = await service.inbox(who)
        if len(items) != n:
            return None
        if n and any(getattr(items[0], k) != v for k, v in match.items()):
            return None
        return (items,)  # truthy also when empty

    found = await eventually(check, within=30, what=f"{n} notification(s) {match or ''}")
    return found[0]  # type: ignore[index]


def mails_to(address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((SMTP_MAILDIR / "new").glob("*.eml")):
        text = Path(path).read_text(errors="replace")
        if f"X-Envelope-To: {address}" in text:
            found.append(email.message_from_string(text, policy=email.policy.default))
    return found


async def test_reactions_group_per_post_counting_people_and_replays_count_once(
    service: Service, publish: Any
) -> None:
    author = uuid.uuid4()
    ana = await known(service, publish, "Ana")
    others = [uuid.uuid4() for _ in range(3)]
    post = uuid.uuid4()
    created_before = service.metric("hallway_notifications_created_total", kind="reaction")
    grouped_before = service.metric("hallway_notifications_grouped_total", kind="reaction")
    first = notice("reaction", [author], others[0], post_id=post, reaction="like")
    await publish(event(first))
    for who in others[1:]:
        await publish(event(notice("reaction", [author], who, post_id=post, reaction="support")))
    # The same person reacting again (another kind) is not another person.
    await publish(event(notice("reaction", [author], others[1], post_id=post, reaction="funny")))
    last = notice("reaction", [author], ana, post_id=post, reaction="celebrate")
    await publish(event(last))

    [group] = await inbox_of(service, author, 1, actor_count=4)
    assert group.kind == pb.NOTIFICATION_KIND_REACTION
    assert group.actor_id == str(ana) and group.reaction == "celebrate"
    assert group.post_id == str(post) and not group.read

    # A replay (same notice, new event id) and a redelivery (same event) count once.
    again = event(first)
    await publish(again)
    await publish(again)
    await publish(event(last))
    await settled(service, publish, post)
    [group] = await service.inbox(author)
    assert group.actor_count == 4 and group.actor_id == str(ana)
    sources = await service.fetch(
        "SELECT count(*) AS n FROM notification_sources WHERE notification_id = $1",
        uuid.UUID(group.id),
    )
    assert sources[0]["n"] == 5  # five notices, four people
    assert service.metric("hallway_notifications_created_total", kind="reaction") == (
        created_before + 1
    )
    assert service.metric("hallway_notifications_grouped_total", kind="reaction") >= (
        grouped_before + 4
    )

    # Once read, the next reaction starts a new group.
    await service.mark_all_read(author)
    await publish(event(notice("reaction", [author], others[2], post_id=post, reaction="like")))
    items = await inbox_of(service, author, 2, actor_count=1)
    assert [n.read for n in items] == [False, True]
    assert items[0].id != group.id and items[1].actor_count == 4
    # Reactions on another post are another group.
    await publish(event(notice("reaction", [author], ana, post_id=uuid.uuid4(), reaction="like")))
    await inbox_of(service, author, 3)


async def test_replies_group_and_a_retracted_comment_leaves_the_rest(
    service: Service, publish: Any
) -> None:
    author, bo, cy = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    post, c1, c2, c3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await publish(event(notice("reply", [author], bo, post_id=post, comment_id=c1, snippet="one")))
    await publish(event(notice("reply", [author], cy, post_id=post, comment_id=c2, snippet="two")))
    # The actor is never notified of their own reply (a thread they are in).
    await publish(
        event(notice("reply", [author, bo], bo, post_id=post, comment_id=c3, snippet="three"))
    )
    [group] = await inbox_of(service, author, 1, comment_id=str(c3))
    assert group.kind == pb.NOTIFICATION_KIND_REPLY
    assert (group.actor_id, group.actor_count, group.snippet) == (str(bo), 2, "three")
    assert await service.inbox(bo) == []

    # c3 deleted: the group shows the newest reply left, still two people.
    await publish(retracted(post, comment_id=c3))
    [group] = await inbox_of(service, author, 1, comment_id=str(c2))
    assert (group.actor_id, group.actor_count, group.snippet) == (str(cy), 2, "two")
    # c2 deleted: one person left.
    await publish(retracted(post, comment_id=c2))
    [group] = await inbox_of(service, author, 1, actor_count=1)
    assert (group.actor_id, group.comment_id, group.snippet) == (str(bo), str(c1), "one")
    # A replayed notice about a deleted comment cannot bring it back.
    await publish(event(notice("reply", [author], cy, post_id=post, comment_id=c2, snippet="x")))
    await settled(service, publish, post)
    assert [(n.actor_count, n.comment_id) for n in await service.inbox(author)] == [(1, str(c1))]
    # The last comment deleted: the group goes.
    await publish(retracted(post, comment_id=c1))
    await inbox_of(service, author, 0)


async def test_mentions_in_comments_and_restricted_posts_do_not_double_up(
    service: Service, publish: Any
) -> None:
    author, dee = uuid.uuid4(), uuid.uuid4()
    post, comment = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    created = PostCreated(
        post_id=post,
        author_id=author,
        text="hello @dee",
        mentions=[dee],
        version=1,
        created_at=now,
        occurred_at=now,
    )
    await publish(event(created))
    await inbox_of(service, dee, 1)
    # The same post's mention as a notice: the same notification.
    await publish(event(notice("mention", [dee], author, post_id=post, snippet="hello @dee")))
    await settled(service, publish, post)
    assert len(await service.inbox(dee)) == 1
    # A mention in a comment of it is another one; twice is still one.
    in_comment = notice("mention", [dee], author, post_id=post, comment_id=comment, snippet="hi")
    await publish(event(in_comment))
    await publish(event(notice("mention", [dee], author, post_id=post, comment_id=comment)))
    items = await inbox_of(service, dee, 2, comment_id=str(comment))
    assert items[0].kind == pb.NOTIFICATION_KIND_MENTION and items[0].snippet == "hi"
    await settled(service, publish, post)
    assert len(await service.inbox(dee)) == 2
    # The comment deleted: its mention goes, the post's stays.
    await publish(retracted(post, comment_id=comment))
    [left] = await inbox_of(service, dee, 1, comment_id="")
    assert left.post_id == str(post)


async def test_community_kinds_and_revoked_access(service: Service, publish: Any) -> None:
    eve, admin, requester = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    guild, other = uuid.uuid4(), uuid.uuid4()
    post, elsewhere = uuid.uuid4(), uuid.uuid4()
    named = {"community_id": guild, "community_name": "Design guild"}
    await publish(event(notice("community_invite", [eve], admin, **named)))
    await publish(event(notice("community_invite", [eve], admin, **named)))  # not stacked
    await publish(event(notice("join_request", [admin], requester, **named)))
    await publish(event(notice("request_approved", [requester], admin, **named)))
    await publish(event(notice("community_post", [eve], admin, post_id=post, **named)))
    await publish(
        event(notice("community_post", [eve], admin, post_id=elsewhere, community_id=other))
    )
    await settled(service, publish, guild)
    await inbox_of(service, eve, 3)
    kinds = {n.kind: n for n in await service.inbox(eve)}
    invite = kinds[pb.NOTIFICATION_KIND_COMMUNITY_INVITE]
    assert (invite.community_id, invite.community_name) == (str(guild), "Design guild")
    assert invite.actor_id == str(admin) and invite.post_id == "" and invite.actor_count == 1
    assert kinds[pb.NOTIFICATION_KIND_COMMUNITY_POST].post_id in {str(post), str(elsewhere)}
    [request] = await service.inbox(admin)
    assert request.kind == pb.NOTIFICATION_KIND_JOIN_REQUEST and request.actor_id == str(requester)
    [approved] = await service.inbox(requester)
    assert approved.kind == pb.NOTIFICATION_KIND_REQUEST_APPROVED

    # Eve leaves the guild: her notifications about it go, the other community's stay.
    await publish(revoked(guild, eve))
    [left] = await inbox_of(service, eve, 1)
    assert left.community_id == str(other)
    # Nobody else's changed.
    assert len(await service.inbox(admin)) == 1 and len(await service.inbox(requester)) == 1


async def test_a_retracted_post_takes_everything_about_it(service: Service, publish: Any) -> None:
    author, fay = uuid.uuid4(), uuid.uuid4()
    guild, post = uuid.uuid4(), uuid.uuid4()
    base = {"post_id": post, "community_id": guild, "community_name": "Ops"}
    await publish(event(notice("reaction", [author], fay, reaction="like", **base)))
    await publish(event(notice("reply", [author], fay, comment_id=uuid.uuid4(), **base)))
    await publish(event(notice("community_post", [fay], author, **base)))
    await inbox_of(service, author, 2)
    await inbox_of(service, fay, 1)
    await publish(retracted(guild, post_id=post))
    await inbox_of(service, author, 0)
    await inbox_of(service, fay, 0)
    # A late notice about the deleted post is dropped.
    await publish(event(notice("reaction", [author], uuid.uuid4(), reaction="like", **base)))
    await settled(service, publish, guild)
    assert await service.inbox(author) == []


async def test_preferences_email_once_per_group_and_the_digest_says_who(
    service: Service, publish: Any
) -> None:
    address = f"g{uuid.uuid4().hex[:12]}@example.com"
    author = await known(service, publish, "Gus", address)
    quiet = await known(service, publish, "Quinn", f"q{uuid.uuid4().hex[:12]}@example.com")
    ana = await known(service, publish, "Ana")
    bo = await known(service, publish, "Bo")
    # Gus: e-mail on for reactions and replies, a daily digest. Quinn: reactions off.
    await service.update(
        author,
        ("reaction", EMAIL, True),
        ("reply", EMAIL, True),
        digest=pb.DIGEST_FREQUENCY_DAILY,
    )
    await service.update(quiet, ("reaction", IN_APP, False))

    post = uuid.uuid4()
    await publish(event(notice("reaction", [author, quiet], ana, post_id=post, reaction="like")))

    def mail(subject: str) -> list[email.message.EmailMessage]:
        return [m for m in mails_to(address) if str(m["Subject"]).startswith(subject)]

    first = await eventually(
        lambda: mail("Ana reacted to your post"), within=30, what="the reaction e-mail"
    )
    assert first[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # More reactions join the group: no more e-mails for it.
    await publish(event(notice("reaction", [author, quiet], bo, post_id=post, reaction="like")))
    await inbox_of(service, author, 1, actor_count=2)
    await publish(
        event(notice("reply", [author], bo, post_id=post, comment_id=uuid.uuid4(), snippet="yes"))
    )
    replies = await eventually(
        lambda: mail("Bo replied in a conversation"), within=30, what="the reply e-mail"
    )
    assert "yes" in replies[0].get_content()
    assert await service.inbox(quiet) == []  # in-app off for reactions: nothing listed

    # The digests (one period may end between notices) name the group's people; a
    # group listed before it grew is listed again with its new count.
    def digested() -> str:
        text = "".join(m.get_content() for m in mail("Your Hallway digest"))
        grouped = "Bo and 1 other reacted to your post" in text
        return (
            text if grouped and "Bo replied in a conversation you are part of: yes" in text else ""
        )

    await eventually(digested, within=30 + 3 * DAILY_SECONDS, what="digests naming both groups")
    assert len(mail("Ana reacted to your post")) == 1
    assert not mail("Bo and 1 other")  # the group's e-mail went once, when it opened


async def test_an_old_notice_arriving_late_adds_to_the_count_but_not_the_headline(
    service: Service, publish: Any
) -> None:
    author, new, old = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    post = uuid.uuid4()
    await publish(event(notice("reaction", [author], new, post_id=post, reaction="like")))
    await inbox_of(service, author, 1)
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    await publish(
        event(
            notice("reaction", [author], old, post_id=post, reaction="funny", occurred_at=earlier)
        )
    )
    [group] = await inbox_of(service, author, 1, actor_count=2)
    assert group.actor_id == str(new) and group.reaction == "like"


async def test_a_notice_without_what_its_kind_is_about_is_dead_lettered(
    service: Service, publish: Any
) -> None:
    author, post = uuid.uuid4(), uuid.uuid4()
    bad = event(notice("reaction", [author], uuid.uuid4(), community_id=post, reaction="like"))
    await publish(bad)
    # The next one on the same key is processed.
    await publish(event(notice("reaction", [author], uuid.uuid4(), post_id=post, reaction="like")))
    await inbox_of(service, author, 1)
    parked = await first_record(
        service.prefix + dlq_topic("hallway-notification"),
        lambda r: headers_of(r).get("ce_id") == bad.id,
    )
    assert headers_of(parked)["dlq_error"].startswith("Rejected")
