"""Preferences, unsubscribe and the digest with the notification service as a process
against the real PostgreSQL, Kafka and SMTP sink (digest periods shortened to seconds).

Events are published as profile and feed publish them; results are checked over gRPC,
in the database, on the metrics endpoint and in the SMTP sink.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg
import grpc
import pytest
from aiokafka import AIOKafkaProducer

from hallway.notification.v1 import notification_pb2 as pb
from hallway.notification.v1 import notification_pb2_grpc as pb_grpc
from hallway_common.contracts import PostCreated, model_of
from hallway_common.events import Event, new_event
from hallway_common.tracing import new_traceparent
from hallway_dev import testing
from hallway_dev.testing import (
    KAFKA,
    SMTP_MAILDIR,
    ServiceProcess,
    eventually,
    metric,
    migrated_database,
    service_process,
)
from hallway_notification import digest

pytestmark = pytest.mark.integration

DAILY_SECONDS = 3


class Service:
    def __init__(self, proc: ServiceProcess, dsn: str) -> None:
        self.proc = proc
        self.dsn = dsn
        self.channel = testing.service_channel(proc.grpc_address, deadline=10)
        self.stub = pb_grpc.NotificationServiceStub(self.channel)

    async def prefs(self, person: uuid.UUID) -> pb.GetPreferencesResponse:
        return await self.stub.GetPreferences(
            pb.GetPreferencesRequest(), metadata=testing.as_person(str(person))
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

    async def inbox(self, person: uuid.UUID) -> pb.ListNotificationsResponse:
        return await self.stub.ListNotifications(
            pb.ListNotificationsRequest(page_size=100), metadata=testing.as_person(str(person))
        )

    async def fetchval(self, sql: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()


@pytest.fixture(scope="module")
async def service(stack: None, topic_prefix: str) -> AsyncIterator[Service]:
    dsn = await migrated_database("notification", ["hallway_notification"])
    proc = service_process(
        "notification",
        topic_prefix + "prefs.",
        database_url=dsn,
        digest_daily_seconds=str(DAILY_SECONDS),
        digest_poll_seconds="0.5",
        public_url="https://hallway.example.com",
    )
    await asyncio.to_thread(proc.start)
    svc = Service(proc, dsn)
    try:
        yield svc
    finally:
        await svc.channel.close()
        await asyncio.to_thread(proc.stop)


@pytest.fixture(scope="module")
async def publish(stack: None, topic_prefix: str) -> AsyncIterator[Any]:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
    await producer.start()

    async def send(event: Event) -> None:
        await producer.send_and_wait(
            topic_prefix + "prefs." + event.topic,
            event.data,
            key=event.key.encode(),
            headers=[(k, v.encode()) for k, v in event.headers().items()],
        )

    try:
        yield send
    finally:
        await producer.stop()


def mention(author: uuid.UUID, people: list[uuid.UUID], text: str) -> Event:
    now = datetime.now(UTC)
    payload = PostCreated(
        post_id=uuid.uuid4(),
        author_id=author,
        text=text,
        mentions=people,
        version=1,
        created_at=now,
        occurred_at=now,
    )
    return new_event("hallway.feed.post.created", payload, new_traceparent())


def follow(follower: uuid.UUID, followee: uuid.UUID) -> Event:
    kind = "hallway.profile.follow.created"
    payload = model_of(kind)(
        follower_id=follower, followee_id=followee, occurred_at=datetime.now(UTC)
    )
    return new_event(kind, payload, new_traceparent())


def person(person_id: uuid.UUID, address: str, version: int = 1, **fields: Any) -> Event:
    kind = f"hallway.profile.person.{'created' if version == 1 else 'updated'}"
    payload = model_of(kind)(
        person_id=person_id,
        handle=f"p{person_id.hex[:8]}",
        display_name="P",
        version=version,
        email=address,
        occurred_at=datetime.now(UTC),
        **fields,
    )
    return new_event(kind, payload, new_traceparent())


async def with_address(service: Service, publish: Any) -> tuple[uuid.UUID, str]:
    who = uuid.uuid4()
    address = f"p{who.hex[:12]}@example.com"
    await publish(person(who, address))

    async def known() -> bool:
        return bool(
            await service.fetchval("SELECT email FROM email_addresses WHERE person_id = $1", who)
        )

    await eventually(known, within=30, what="the address from the person event")
    return who, address


def mails_to(address: str, subject: str = "") -> list[email.message.EmailMessage]:
    """Mails the SMTP sink received for ``address`` (optionally: whose subject starts so)."""
    found = []
    for path in sorted((SMTP_MAILDIR / "new").glob("*.eml")):
        text = Path(path).read_text(errors="replace")
        if f"X-Envelope-To: {address}" not in text:
            continue
        msg = email.message_from_string(text, policy=email.policy.default)
        if str(msg["Subject"] or "").startswith(subject):
            found.append(msg)
    return found


def token_of(msg: email.message.EmailMessage) -> str:
    link = re.fullmatch(r"<(.+)>", str(msg["List-Unsubscribe"]))
    assert link, msg["List-Unsubscribe"]
    url = urlparse(link.group(1))
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "hallway.example.com",
        "/api/v1/unsubscribe",
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return parse_qs(url.query)["token"][0]


IN_APP, EMAIL = pb.NOTIFICATION_CHANNEL_IN_APP, pb.NOTIFICATION_CHANNEL_EMAIL


async def test_preferences_default_change_and_refuse_bad_input(service: Service) -> None:
    me = uuid.uuid4()
    got = await service.prefs(me)
    assert got.digest == pb.DIGEST_FREQUENCY_WEEKLY
    switches = {(p.kind, p.channel): p.enabled for p in got.preferences}
    assert switches[("mention", EMAIL)] and not switches[("new_follower", EMAIL)]
    assert all(switches[(k, IN_APP)] for k, _ in switches)
    assert len(switches) == 16

    after = await service.update(
        me, ("reaction", IN_APP, False), ("reply", EMAIL, True), digest=pb.DIGEST_FREQUENCY_DAILY
    )
    changed = {(p.kind, p.channel): p.enabled for p in after.preferences}
    assert not changed[("reaction", IN_APP)] and changed[("reply", EMAIL)]
    assert after.digest == pb.DIGEST_FREQUENCY_DAILY
    again = await service.prefs(me)
    assert {(p.kind, p.channel): p.enabled for p in again.preferences} == changed

    # Someone else's preferences are their own.
    assert (await service.prefs(uuid.uuid4())).digest == pb.DIGEST_FREQUENCY_WEEKLY

    for items in (
        [("unknown", EMAIL, True)],
        [("mention", pb.NOTIFICATION_CHANNEL_UNSPECIFIED, True)],
        [("mention", EMAIL, False), ("mention", EMAIL, True)],
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await service.update(me, *items, digest=pb.DIGEST_FREQUENCY_OFF)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (await service.prefs(me)).digest == pb.DIGEST_FREQUENCY_DAILY  # nothing changed

    as_gateway = testing.signer().metadata("service:gateway")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await service.stub.GetPreferences(pb.GetPreferencesRequest(), metadata=as_gateway)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_in_app_off_means_no_inbox_row_and_email_on_mails_with_a_working_link(
    service: Service, publish: Any
) -> None:
    me, address = await with_address(service, publish)
    await service.update(me, ("new_follower", IN_APP, False), ("new_follower", EMAIL, True))
    fan = uuid.uuid4()
    await publish(follow(fan, me))

    sent = await eventually(
        lambda: mails_to(address, "You have a new follower"), within=30, what="follower e-mail"
    )
    msg = sent[0]  # type: ignore[index]
    assert (await service.inbox(me)).notifications == []  # nothing shown in the app
    assert (await service.inbox(me)).unread_count == 0

    token = token_of(msg)
    as_gateway = testing.signer().metadata("service:gateway")
    check = await service.stub.Unsubscribe(
        pb.UnsubscribeRequest(token=token, validate_only=True), metadata=as_gateway
    )
    assert (check.kind, check.channel) == ("new_follower", EMAIL)
    still = {(p.kind, p.channel): p.enabled for p in (await service.prefs(me)).preferences}
    assert still[("new_follower", EMAIL)]  # validate_only changed nothing

    before = metric(service.proc.metrics_port, "hallway_notification_unsubscribes_total")
    for _ in range(2):  # idempotent
        done = await service.stub.Unsubscribe(
            pb.UnsubscribeRequest(token=token), metadata=as_gateway
        )
        assert done.kind == "new_follower"
    now = {(p.kind, p.channel): p.enabled for p in (await service.prefs(me)).preferences}
    assert not now[("new_follower", EMAIL)]
    after = metric(
        service.proc.metrics_port, "hallway_notification_unsubscribes_total", kind="new_follower"
    )
    assert after >= 2 and before >= 0

    for bad in ("", "nonsense", token[:-3] + "AAA", token.replace(".", "x")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await service.stub.Unsubscribe(pb.UnsubscribeRequest(token=bad), metadata=as_gateway)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_email_off_means_no_immediate_mail_but_the_inbox_row(
    service: Service, publish: Any
) -> None:
    me, address = await with_address(service, publish)
    await service.update(me, ("mention", EMAIL, False))
    marker = f"quiet-{uuid.uuid4().hex}"
    await publish(mention(uuid.uuid4(), [me], marker))

    async def shown() -> bool:
        return len((await service.inbox(me)).notifications) == 1

    await eventually(shown, within=30, what="the mention in the inbox")
    # The consumer queued no e-mail for it (checked in the same transaction as the row).
    queued = await service.fetchval(
        """SELECT count(*) FROM email_outbox o JOIN notifications n ON n.id = o.notification_id
           WHERE n.person_id = $1""",
        me,
    )
    assert queued == 0
    assert mails_to(address, "You were mentioned") == []


async def test_the_digest_lists_unread_notifications_once_per_period(
    service: Service, publish: Any
) -> None:
    me, address = await with_address(service, publish)
    await service.update(me, digest=pb.DIGEST_FREQUENCY_DAILY)
    marker = f"digest-{uuid.uuid4().hex}"
    await publish(mention(uuid.uuid4(), [me], marker))
    await publish(follow(uuid.uuid4(), me))

    async def two_unread() -> bool:
        return (await service.inbox(me)).unread_count == 2

    await eventually(two_unread, within=30, what="two notifications")
    before = metric(service.proc.metrics_port, "hallway_notification_digests_sent_total")
    found = await eventually(
        lambda: [m for m in mails_to(address, "Your Hallway digest") if marker in m.get_content()],
        within=4 * DAILY_SECONDS + 30,
        what="the digest",
    )
    msg = found[0]  # type: ignore[index]
    body = msg.get_content()
    assert "2 unread notifications" in str(msg["Subject"])
    assert "A colleague started following you" in body
    assert msg["Message-ID"].startswith(f"<digest.{me}.")
    token = token_of(msg)

    sent_at = await service.fetchval("SELECT last_sent_at FROM digests WHERE person_id = $1", me)
    assert sent_at is not None
    assert (
        await service.fetchval(
            "SELECT count(*) FROM notifications WHERE person_id = $1 AND digested_at IS NOT NULL",
            me,
        )
        == 2
    )
    assert metric(service.proc.metrics_port, "hallway_notification_digests_sent_total") >= before

    # Two more periods pass: nothing new, so no second digest.
    await asyncio.sleep(2 * DAILY_SECONDS + 1)
    assert len(mails_to(address, "Your Hallway digest")) == 1

    # The digest's own link turns the digest off; nothing new arrives after that.
    done = await service.stub.Unsubscribe(
        pb.UnsubscribeRequest(token=token), metadata=testing.signer().metadata("service:gateway")
    )
    assert (done.kind, done.channel) == ("digest", EMAIL)
    assert (await service.prefs(me)).digest == pb.DIGEST_FREQUENCY_OFF
    await publish(mention(uuid.uuid4(), [me], f"after-{marker}"))

    async def three_unread() -> bool:
        return (await service.inbox(me)).unread_count == 3

    await eventually(three_unread, within=30, what="the third notification")
    await asyncio.sleep(2 * DAILY_SECONDS + 1)
    assert len(mails_to(address, "Your Hallway digest")) == 1


async def test_settling_moves_the_period_on_so_a_second_mailer_sends_nothing(
    service: Service, publish: Any
) -> None:
    """Two mailers (two replicas, or one restarted) over one database: a period's digest
    is claimed by one and, once settled, due again only in the next period."""
    me, address = await with_address(service, publish)
    conn = await asyncpg.connect(service.dsn)
    try:
        # A period long enough that the service's own mailer cannot send it meanwhile.
        await conn.execute(
            """INSERT INTO digests (person_id, frequency, period_start, due_at)
               VALUES ($1, 'weekly', now() - interval '8 days', now() + interval '1 hour')""",
            me,
        )
        await publish(mention(uuid.uuid4(), [me], f"lease-{uuid.uuid4().hex}"))

        async def unread() -> bool:
            return (await service.inbox(me)).unread_count == 1

        await eventually(unread, within=30, what="the notification")
        await conn.execute(
            "UPDATE digests SET due_at = now() - interval '1 second' WHERE person_id = $1", me
        )
        pool = await asyncpg.create_pool(service.dsn, min_size=1, max_size=2)
        try:
            config = digest.SmtpConfig("127.0.0.1", testing.SMTP_PORT, "hallway@localhost")
            periods = digest.Periods(daily=3600, weekly=7 * 86400)
            first = digest.DigestMailer(pool, config, periods)
            second = digest.DigestMailer(pool, config, periods)
            # Race the service's own mailer too: whoever claims it, it is sent once.
            await asyncio.gather(first.send_due(), second.send_due())
            await eventually(
                lambda: mails_to(address, "Your Hallway digest"), within=30, what="one digest"
            )
            await asyncio.gather(first.send_due(), second.send_due())
        finally:
            await pool.close()
        await asyncio.sleep(2)
        assert len(mails_to(address, "Your Hallway digest")) == 1
        row = await conn.fetchrow(
            "SELECT due_at, last_period_end, last_sent_at FROM digests WHERE person_id = $1", me
        )
        assert row["last_sent_at"] is not None
        assert (row["due_at"] - row["last_period_end"]).total_seconds() >= 6 * 86400
    finally:
        await conn.close()


async def test_a_removed_person_leaves_no_preferences_behind(
    service: Service, publish: Any
) -> None:
    me, address = await with_address(service, publish)
    await service.update(me, ("reply", EMAIL, True), digest=pb.DIGEST_FREQUENCY_DAILY)
    assert await service.fetchval("SELECT count(*) FROM preferences WHERE person_id = $1", me)
    await publish(person(me, address, version=2, active=False))

    async def forgotten() -> bool:
        kept = await service.fetchval(
            """SELECT (SELECT count(*) FROM preferences WHERE person_id = $1)
                    + (SELECT count(*) FROM digests WHERE person_id = $1)""",
            me,
        )
        return kept == 0

    await eventually(forgotten, within=30, what="preferences and digest schedule removed")
