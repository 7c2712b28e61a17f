"""Preferences, unsubscribe tokens and digest e-mails: pure logic, no servers needed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hallway.notification.v1 import notification_pb2 as pb
from hallway_common.errors import InvalidArgument, NotFound
from hallway_notification import digest, kinds, mailer, prefs
from hallway_notification.grpc_api import preferences_from_proto, preferences_to_proto

KEY = b"0123456789abcdef0123456789abcdef"


class TestDefaults:
    def test_in_app_on_everywhere_email_only_for_mentions(self) -> None:
        for kind in kinds.KINDS:
            assert kinds.default(kind, kinds.IN_APP)
            assert kinds.default(kind, kinds.EMAIL) == (kind == kinds.MENTION)

    def test_the_kind_list_has_the_existing_and_the_coming_kinds(self) -> None:
        assert kinds.KINDS[:2] == ("mention", "new_follower")
        assert {"reply", "reaction", "community_invite", "join_request"} <= set(kinds.KINDS)
        assert {"request_approved", "community_post"} <= set(kinds.KINDS)
        assert len(set(kinds.KINDS)) == len(kinds.KINDS)

    def test_stored_rows_override_defaults_and_unknown_kinds_are_ignored(self) -> None:
        rows = [
            {"kind": "mention", "channel": "email", "enabled": False},
            {"kind": "reaction", "channel": "in_app", "enabled": False},
            {"kind": "retired_kind", "channel": "email", "enabled": True},
        ]
        p = prefs.merge(rows, None)
        assert p.digest == prefs.WEEKLY
        assert not p.enabled("mention", "email") and not p.enabled("reaction", "in_app")
        assert p.enabled("mention", "in_app") and not p.enabled("new_follower", "email")
        assert ("retired_kind", "email") not in p.switches
        assert len(p.switches) == len(kinds.KINDS) * len(kinds.CHANNELS)
        assert prefs.merge([], "daily").digest == "daily"


class TestValidation:
    def test_good_update(self) -> None:
        entries, digest_ = prefs.check_update([("reply", "email", True)], "off")
        assert entries == [("reply", "email", True)] and digest_ == "off"
        assert prefs.check_update([], None) == ([], None)

    @pytest.mark.parametrize(
        ("entries", "frequency", "message"),
        [
            ([("nope", "email", True)], None, "unknown notification kind"),
            ([("mention", "sms", True)], None, "channel"),
            ([("mention", "email", True), ("mention", "email", False)], None, "twice"),
            ([("mention", "email", True)] * 101, None, "at most"),
            ([], "hourly", "digest"),
        ],
    )
    def test_bad_update(self, entries: list, frequency: str | None, message: str) -> None:
        with pytest.raises(InvalidArgument, match=message):
            prefs.check_update(entries, frequency)

    def test_proto_round_trip(self) -> None:
        p = prefs.merge([{"kind": "reply", "channel": "email", "enabled": True}], "daily")
        items, frequency = preferences_to_proto(p)
        assert frequency == pb.DIGEST_FREQUENCY_DAILY
        assert len(items) == len(kinds.KINDS) * 2
        assert [(i.kind, i.channel) for i in items[:2]] == [
            ("mention", pb.NOTIFICATION_CHANNEL_IN_APP),
            ("mention", pb.NOTIFICATION_CHANNEL_EMAIL),
        ]
        reply_email = next(
            i for i in items if i.kind == "reply" and i.channel == pb.NOTIFICATION_CHANNEL_EMAIL
        )
        assert reply_email.enabled

    def test_proto_input(self) -> None:
        entries, frequency = preferences_from_proto(
            [pb.Preference(kind="mention", channel=pb.NOTIFICATION_CHANNEL_EMAIL, enabled=False)],
            pb.DIGEST_FREQUENCY_UNSPECIFIED,
        )
        assert entries == [("mention", "email", False)] and frequency is None
        with pytest.raises(InvalidArgument, match="channel"):
            preferences_from_proto([pb.Preference(kind="mention")], 0)
        with pytest.raises(InvalidArgument, match="digest"):
            preferences_from_proto([], 99)


class TestTokens:
    def test_round_trip(self) -> None:
        tokens = prefs.UnsubscribeTokens(KEY)
        person = uuid.uuid4()
        token = tokens.sign(person, "mention")
        assert set(token) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
        )
        assert tokens.verify(token) == prefs.Unsubscription(person, "mention", "email")
        digest_token = tokens.sign(person, prefs.DIGEST)
        assert tokens.verify(digest_token).kind == "digest"

    def test_forged_tampered_and_malformed_tokens_are_not_found(self) -> None:
        tokens = prefs.UnsubscribeTokens(KEY)
        person = uuid.uuid4()
        good = tokens.sign(person, "mention")
        body, mac = good.split(".")
        other_key = prefs.UnsubscribeTokens(b"another-key-of-32-bytes-length!!").sign(
            person, "mention"
        )
        # The same MAC on another person's payload.
        someone_else = prefs._b64(f"{uuid.uuid4()}:mention:email".encode()) + "." + mac
        unsigned_kind = prefs._b64(f"{person}:nope:email".encode())
        bad = [
            "",
            "x",
            "a.b.c",
            other_key,
            someone_else,
            body + "." + mac[:-2],
            body + "." + "!!!!",
            unsigned_kind + "." + prefs._b64(tokens._mac(f"{person}:nope:email".encode())),
            "A" * 600,
        ]
        for token in bad:
            with pytest.raises(NotFound):
                tokens.verify(token)

    def test_a_short_key_is_refused(self) -> None:
        with pytest.raises(ValueError):
            prefs.UnsubscribeTokens(b"short")

    def test_without_a_key_there_are_no_links_and_no_valid_tokens(self) -> None:
        none = prefs.NoTokens()
        assert none.sign(uuid.uuid4(), "mention") == ""
        with pytest.raises(NotFound):
            none.verify(prefs.UnsubscribeTokens(KEY).sign(uuid.uuid4(), "mention"))
        assert mailer.unsubscribe_url("http://h", "") == ""

    def test_key_file(self, tmp_path) -> None:
        path = tmp_path / "unsubscribe.key"
        path.write_bytes(KEY + b"\n")
        token = prefs.UnsubscribeTokens.from_file(str(path)).sign(uuid.uuid4(), "mention")
        prefs.UnsubscribeTokens(KEY).verify(token)  # the newline is not part of the key


class TestEmails:
    def test_every_notification_email_has_the_one_click_pair(self) -> None:
        link = mailer.unsubscribe_url("https://hallway.example.com/", "abc.def")
        assert link == "https://hallway.example.com/api/v1/unsubscribe?token=abc.def"
        msg = mailer.notification_email(
            "h@example.com", "ana@example.com", "new_follower", "", "https://h", link
        )
        assert msg["List-Unsubscribe"] == f"<{link}>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Subject"] == "You have a new follower on Hallway"
        assert link in msg.get_content()

    def test_generic_kind_and_no_link(self) -> None:
        msg = mailer.notification_email("h@x.org", "a@x.org", "community_post", "hello", "")
        assert "List-Unsubscribe" not in msg and "hello" in msg.get_content()

    def _items(self, n: int) -> list[dict]:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        return [
            {
                "id": uuid.uuid4(),
                "kind": "mention" if i % 2 else "new_follower",
                "snippet": f"post {i}" if i % 2 else "",
                "created_at": start + timedelta(minutes=i),
            }
            for i in range(n)
        ]

    def test_digest_lists_the_newest_and_counts_the_rest(self) -> None:
        person = uuid.uuid4()
        due = datetime(2026, 1, 2, tzinfo=UTC)
        items = self._items(digest.LISTED + 3)
        msg = digest.digest_email(
            "h@example.com", "a@example.com", person, due, items, "https://h", "https://u"
        )
        body = msg.get_content()
        assert msg["Subject"] == f"Your Hallway digest: {digest.LISTED + 3} unread notifications"
        assert "A colleague mentioned you in a post: post 1" in body
        assert "A colleague started following you" in body
        assert "... and 3 more" in body and "Stop these digests: https://u" in body
        assert msg["List-Unsubscribe"] == "<https://u>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # The same period of the same person is the same message (a resend after a crash).
        again = digest.digest_email("h@example.com", "a@example.com", person, due, items, "", "")
        assert (
            again["Message-ID"]
            == msg["Message-ID"]
            == f"<digest.{person}.{int(due.timestamp())}@example.com>"
        )

    def test_one_notification_is_singular(self) -> None:
        msg = digest.digest_email(
            "h@x.org", "a@x.org", uuid.uuid4(), datetime.now(UTC), self._items(1), "", ""
        )
        assert msg["Subject"] == "Your Hallway digest: 1 unread notification"


class TestSchedule:
    def test_next_period_follows_the_last(self) -> None:
        due = datetime(2026, 1, 1, tzinfo=UTC)
        now = due + timedelta(seconds=30)
        assert digest.next_due(due, 86400, now) == due + timedelta(days=1)

    def test_missed_periods_are_not_made_up_for(self) -> None:
        due = datetime(2026, 1, 1, tzinfo=UTC)
        now = due + timedelta(days=10)
        assert digest.next_due(due, 86400, now) == now + timedelta(days=1)

    def test_periods_by_frequency(self) -> None:
        periods = digest.Periods(daily=5, weekly=35)
        assert periods.of("daily") == 5 and periods.of("weekly") == 35 and periods.of(None) == 35
