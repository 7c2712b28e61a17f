"""Pure logic of the notification service: no servers needed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from hallway.notification.v1 import notification_pb2 as pb
from hallway_common.errors import InvalidArgument
from hallway_dev.testing import free_port
from hallway_notification import inbox, mailer
from hallway_notification.grpc_api import to_proto
from hallway_notification.metrics import STREAMS_ACTIVE
from hallway_notification.streams import (
    Delivery,
    FeedUnavailable,
    StreamClosed,
    StreamHub,
    TooManyStreams,
)


class TestSnippet:
    def test_short_text_is_kept(self) -> None:
        assert inbox.snippet("Hello @ana, see you at 10") == "Hello @ana, see you at 10"

    def test_whitespace_and_control_characters_collapse(self) -> None:
        assert inbox.snippet("  line one\n\n\tline\x00two\r\n ") == "line one line two"

    def test_long_text_is_cut_on_a_word_boundary(self) -> None:
        text = "word " * 100
        out = inbox.snippet(text)
        assert len(out) <= inbox.SNIPPET_CHARS
        assert out.endswith("word\u2026")

    def test_long_word_is_cut_hard(self) -> None:
        out = inbox.snippet("x" * 500)
        assert out == "x" * (inbox.SNIPPET_CHARS - 1) + "\u2026"

    def test_exactly_the_limit_is_not_cut(self) -> None:
        text = "y" * inbox.SNIPPET_CHARS
        assert inbox.snippet(text) == text

    def test_empty(self) -> None:
        assert inbox.snippet("") == ""


class TestRecipients:
    def test_dedupes_keeps_order_and_skips_the_author(self) -> None:
        author, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        assert inbox.mention_recipients(author, [a, author, b, a]) == [a, b]

    def test_capped(self) -> None:
        many = [uuid.uuid4() for _ in range(inbox.MAX_MENTIONS + 5)]
        assert inbox.mention_recipients(uuid.uuid4(), many) == many[: inbox.MAX_MENTIONS]

    def test_event_time_in_the_future_is_clamped(self) -> None:
        future = datetime.now(UTC) + timedelta(days=1)
        assert inbox._when(future) <= datetime.now(UTC)
        past = datetime(2024, 1, 1, tzinfo=UTC)
        assert inbox._when(past) == past


class TestValidation:
    def test_mark_read_needs_ids_or_all(self) -> None:
        with pytest.raises(InvalidArgument, match="notification_ids or set all"):
            inbox.check_mark_read([], False)
        assert inbox.check_mark_read(["bad"], True) == []  # ids ignored with all

    def test_mark_read_ids(self) -> None:
        a = uuid.uuid4()
        assert inbox.check_mark_read([str(a), str(a)], False) == [a]
        with pytest.raises(InvalidArgument, match="notification_ids"):
            inbox.check_mark_read(["bad"], False)
        with pytest.raises(InvalidArgument, match="at most"):
            inbox.check_mark_read([str(uuid.uuid4())] * (inbox.MAX_MARK_IDS + 1), False)


def _row(kind: str = inbox.MENTION, read: bool = False) -> dict:
    return {
        "id": uuid.uuid4(),
        "person_id": uuid.uuid4(),
        "kind": kind,
        "actor_id": uuid.uuid4(),
        "post_id": uuid.uuid4() if kind == inbox.MENTION else None,
        "snippet": "hi" if kind == inbox.MENTION else "",
        "created_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "read_at": datetime.now(UTC) if read else None,
    }


class TestProtoMapping:
    def test_mention(self) -> None:
        row = _row()
        msg = to_proto(row)
        assert msg.kind == pb.NOTIFICATION_KIND_MENTION
        assert msg.id == str(row["id"]) and msg.person_id == str(row["person_id"])
        assert msg.actor_id == str(row["actor_id"]) and msg.post_id == str(row["post_id"])
        assert msg.snippet == "hi" and not msg.read
        assert msg.created_at.ToDatetime(tzinfo=UTC) == row["created_at"]

    def test_new_follower_read(self) -> None:
        msg = to_proto(_row(inbox.NEW_FOLLOWER, read=True))
        assert msg.kind == pb.NOTIFICATION_KIND_NEW_FOLLOWER
        assert msg.post_id == "" and msg.read


class TestMailer:
    def test_message(self) -> None:
        msg = mailer.mention_email("hallway@example.com", "ana@example.com", "Hi @ana", "http://h/")
        assert msg["To"] == "ana@example.com"
        assert msg["From"] == "hallway@example.com"
        assert msg["Auto-Submitted"] == "auto-generated"
        assert "@example.com>" in msg["Message-ID"]
        body = msg.get_content()
        assert "Hi @ana" in body and "http://h/" in body

    def test_header_injection_is_refused(self) -> None:
        with pytest.raises(ValueError):
            mailer.mention_email("h@x.org", "ana@x.org\r\nBcc: all@x.org", "t", "")

    def test_classify(self) -> None:
        import smtplib

        refused = smtplib.SMTPRecipientsRefused({"a@b": (550, b"no")})
        assert isinstance(mailer._classify(refused), mailer.PermanentFailure)
        bad = smtplib.SMTPDataError(554, b"rejected")
        assert isinstance(mailer._classify(bad), mailer.PermanentFailure)
        busy = smtplib.SMTPDataError(451, b"try later")
        assert mailer._classify(busy) is busy
        down = ConnectionRefusedError()
        assert mailer._classify(down) is down

    def test_an_smtp_outage_is_never_given_up_other_errors_are(self) -> None:
        import smtplib

        assert not mailer.give_up(smtplib.SMTPDataError(451, b"try later"), attempts=100)
        assert not mailer.give_up(ConnectionRefusedError(), attempts=100)
        assert mailer.give_up(RuntimeError("unexpected"), attempts=mailer.MAX_ATTEMPTS)
        assert not mailer.give_up(RuntimeError("unexpected"), attempts=1)
        assert mailer.give_up(mailer.PermanentFailure("550"), attempts=1)

    def test_a_failed_login_is_the_configuration_not_the_messages(self) -> None:
        import smtplib
        from unittest import mock

        config = mailer.SmtpConfig("127.0.0.1", 25, "h@x.org", username="u", password="p")
        msgs = [mailer.mention_email("h@x.org", "p@x.org", "t", "")]
        denied = smtplib.SMTPAuthenticationError(535, b"bad credentials")
        with mock.patch.object(mailer.smtplib, "SMTP") as smtp:
            smtp.return_value.__enter__.return_value.login.side_effect = denied
            [result] = mailer.send_batch(config, msgs)
        assert result is not None and not isinstance(result, mailer.PermanentFailure)
        assert not mailer.give_up(result, attempts=100)

    def test_unreachable_server_means_retry_for_every_message(self) -> None:
        config = mailer.SmtpConfig("127.0.0.1", free_port(), "h@x.org", timeout=2)
        msgs = [mailer.mention_email("h@x.org", f"p{i}@x.org", "t", "") for i in range(3)]
        results = mailer.send_batch(config, msgs)
        assert len(results) == 3
        assert all(r is not None and not isinstance(r, mailer.PermanentFailure) for r in results)


class TestStreamHub:
    def _hub(self, size: int = 2, per_person: int = 3) -> StreamHub:
        hub = StreamHub(None, "", queue_size=size, max_per_person=per_person)  # type: ignore[arg-type]
        hub._listening = True  # as if connected: these tests are about fan-out
        return hub

    async def test_fan_out_and_slow_subscriber_is_dropped(self) -> None:
        hub, person = self._hub(size=2), uuid.uuid4()
        before = STREAMS_ACTIVE._value.get()
        fast, slow = hub.subscribe(person), hub.subscribe(person)
        other = hub.subscribe(uuid.uuid4())
        assert STREAMS_ACTIVE._value.get() == before + 3
        for n in range(3):
            hub.deliver(person, Delivery(n, _row()))
            assert (await fast.next()).unread_count == n  # fast reader keeps up
        # slow never read: its queue (2) overflowed on the third and it was dropped
        with pytest.raises(StreamClosed) as closed:
            await slow.next()
        assert closed.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert STREAMS_ACTIVE._value.get() == before + 2
        hub.deliver(person, Delivery(9, _row()))
        assert (await fast.next()).unread_count == 9
        # someone else's stream saw nothing
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(other.next(), 0.05)
        for sub in (fast, other):
            hub.unsubscribe(sub)
        hub.unsubscribe(fast)  # twice is harmless
        assert STREAMS_ACTIVE._value.get() == before

    async def test_limit_per_person_and_close_all(self) -> None:
        hub, person = self._hub(per_person=2), uuid.uuid4()
        subs = [hub.subscribe(person), hub.subscribe(person)]
        with pytest.raises(TooManyStreams):
            hub.subscribe(person)
        hub.close_all("bye")
        for sub in subs:
            with pytest.raises(StreamClosed, match="bye"):
                await sub.next()
        hub.subscribe(person)  # room again

    def test_no_new_streams_while_not_listening(self) -> None:
        hub = StreamHub(None, "")  # type: ignore[arg-type]
        with pytest.raises(FeedUnavailable):
            hub.subscribe(uuid.uuid4())

    def test_notify_payload_only_queued_for_local_people(self) -> None:
        hub, person = self._hub(), uuid.uuid4()
        hub._notified(None, 0, "c", f"{uuid.uuid4()}:{uuid.uuid4()}")
        hub._notified(None, 0, "c", "garbage")
        assert hub._pending.empty()
        hub.subscribe(person)
        nid = uuid.uuid4()
        hub._notified(None, 0, "c", f"{person}:{nid}")
        assert hub._pending.get_nowait() == nid
