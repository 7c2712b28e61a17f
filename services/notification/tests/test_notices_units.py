"""Units for the notice kinds: how each reads in e-mails and digests, their proto
mapping, recipients, and the metrics exported for every kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from hallway.notification.v1 import notification_pb2 as pb
from hallway_common.failures import Rejected
from hallway_notification import digest, inbox, mailer, texts
from hallway_notification.grpc_api import KIND_TO_PROTO, to_proto
from hallway_notification.kinds import GROUPED, KINDS
from hallway_notification.metrics import NOTIFICATIONS_CREATED, NOTIFICATIONS_GROUPED


class TestHeadlines:
    @pytest.mark.parametrize(
        ("row", "expected"),
        [
            ({"kind": "reaction", "actor_name": "Ana", "actor_count": 13}, "Ana and 12 others reacted to your post"),
            ({"kind": "reaction", "actor_name": "Ana", "actor_count": 2}, "Ana and 1 other reacted to your post"),
            ({"kind": "reply", "actor_name": "Bo", "actor_count": 1}, "Bo replied in a conversation you are part of"),
            (
                {"kind": "reply", "actor_name": "Bo", "actor_count": 3, "community_name": "Ops"},
                "Bo and 2 others replied in a conversation you are part of in Ops",
            ),
            ({"kind": "community_invite", "actor_name": "Cy", "community_name": "Design guild"}, "You are invited to Design guild (by Cy)"),
            ({"kind": "join_request", "actor_name": "Dee", "community_name": "Ops"}, "Dee asked to join Ops"),
            ({"kind": "request_approved", "actor_name": "Cy", "community_name": "Ops"}, "Your request to join Ops was approved"),
            ({"kind": "community_post", "actor_name": "Cy", "community_name": "Ops"}, "Cy posted in Ops"),
            ({"kind": "mention", "actor_name": "Eve", "comment_id": uuid.uuid4()}, "Eve mentioned you in a comment"),
            ({"kind": "mention"}, "A colleague mentioned you in a post"),
            ({"kind": "new_follower", "actor_name": None}, "A colleague started following you"),
            ({"kind": "something_new"}, "Something new happened for you"),
        ],
    )  # fmt: skip
    def test_each_kind(self, row: dict, expected: str) -> None:
        assert texts.headline(row) == expected

    def test_every_kind_has_its_own_sentence(self) -> None:
        lines = {
            texts.headline({"kind": k, "actor_name": "A", "community_name": "C"}) for k in KINDS
        }
        assert len(lines) == len(KINDS) and "Something new happened for you" not in lines

    def test_names_cannot_break_a_subject_line(self) -> None:
        row = {"kind": "join_request", "actor_name": "Eve\r\nBcc: x@y", "community_name": "A\nB"}
        line = texts.headline(row)
        assert "\n" not in line and "\r" not in line
        msg = mailer.notification_email("h@x.org", "a@x.org", "join_request", "", "", "", line)
        assert msg["Subject"] == f"{line} - Hallway"

    def test_email_and_digest_lines(self) -> None:
        line = "Ana and 12 others reacted to your post"
        msg = mailer.notification_email("h@x.org", "a@x.org", "reaction", "", "http://h", "", line)
        assert msg["Subject"] == f"{line} - Hallway" and f"{line}." in msg.get_content()
        # The first kinds keep their subject; the body says who.
        msg = mailer.notification_email(
            "h@x.org", "a@x.org", "mention", "hi", "", "", "Eve mentioned you in a post"
        )
        assert msg["Subject"] == "You were mentioned on Hallway"
        assert "Eve mentioned you in a post:\n\n    hi" in msg.get_content()
        row = {"kind": "reply", "actor_name": "Bo", "actor_count": 1, "snippet": "yes"}
        assert digest.line(row) == "Bo replied in a conversation you are part of: yes"
        items = [{**row, "id": uuid.uuid4(), "created_at": datetime(2026, 1, 1, tzinfo=UTC)}]
        body = digest.digest_email(
            "h@x.org", "a@x.org", uuid.uuid4(), datetime.now(UTC), items, "", ""
        )
        assert "Bo replied in a conversation you are part of: yes" in body.get_content()


class TestProto:
    def test_every_kind_maps_to_its_own_value(self) -> None:
        assert set(KIND_TO_PROTO) == set(KINDS)
        assert len(set(KIND_TO_PROTO.values())) == len(KINDS)
        assert pb.NOTIFICATION_KIND_UNSPECIFIED not in KIND_TO_PROTO.values()

    def test_grouped_reaction(self) -> None:
        community = uuid.uuid4()
        row = {
            "id": uuid.uuid4(),
            "person_id": uuid.uuid4(),
            "kind": "reaction",
            "actor_id": uuid.uuid4(),
            "post_id": uuid.uuid4(),
            "comment_id": None,
            "community_id": community,
            "community_name": "Ops",
            "reaction": "celebrate",
            "actor_count": 13,
            "snippet": "",
            "created_at": datetime(2026, 1, 2, tzinfo=UTC),
            "read_at": None,
        }
        msg = to_proto(row)
        assert msg.kind == pb.NOTIFICATION_KIND_REACTION and msg.actor_count == 13
        assert (msg.community_id, msg.community_name, msg.reaction) == (
            str(community),
            "Ops",
            "celebrate",
        )
        assert msg.comment_id == ""

    def test_old_rows_read_as_one_actor(self) -> None:
        row = {
            "id": uuid.uuid4(),
            "person_id": uuid.uuid4(),
            "kind": "new_follower",
            "actor_id": uuid.uuid4(),
            "post_id": None,
            "snippet": "",
            "created_at": datetime(2026, 1, 2, tzinfo=UTC),
            "read_at": None,
        }
        msg = to_proto(row)
        assert msg.actor_count == 1 and msg.community_id == "" and msg.reaction == ""


class TestRecipients:
    def test_distinct_in_order_without_the_actor(self) -> None:
        a, b, actor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        assert inbox.notice_recipients(actor, [b, actor, a, b]) == [b, a]


class TestMetrics:
    def test_a_zero_series_for_every_kind(self) -> None:
        created = {s.labels["kind"] for m in NOTIFICATIONS_CREATED.collect() for s in m.samples}
        grouped = {s.labels["kind"] for m in NOTIFICATIONS_GROUPED.collect() for s in m.samples}
        assert set(KINDS) <= created and set(GROUPED) <= grouped


class TestCheckNotice:
    def _notice(self, kind: str, **about: object) -> inbox.Notice:
        return inbox.Notice(
            notice_id=uuid.uuid4(),
            kind=kind,
            recipients=[uuid.uuid4()],
            actor_id=uuid.uuid4(),
            about=inbox.About(**about),  # type: ignore[arg-type]
            snippet="",
            occurred_at=datetime.now(UTC),
        )

    def test_what_each_kind_needs(self) -> None:
        inbox.check_notice(self._notice("reply", post_id=uuid.uuid4()))
        inbox.check_notice(self._notice("community_invite", community_id=uuid.uuid4()))
        for bad in (
            self._notice("reaction"),
            self._notice("community_post", community_id=uuid.uuid4()),
            self._notice("join_request", post_id=uuid.uuid4()),
            self._notice("new_follower"),
        ):
            with pytest.raises(Rejected):
                inbox.check_notice(bad)
