"""Comments, reactions, counts and topics in the feed service as a process, on real
PostgreSQL + Kafka: threads one level deep, edits with history, counts batched into
every page, a private post's conversation invisible and unpublished."""

from __future__ import annotations

import uuid

import grpc
import orjson
import pytest

from hallway.feed.v1 import community_pb2 as cpb
from hallway.feed.v1 import community_pb2_grpc as cpb_grpc
from hallway.feed.v1 import conversation_pb2 as vpb
from hallway.feed.v1 import conversation_pb2_grpc as vpb_grpc
from hallway.feed.v1 import feed_pb2 as fpb
from hallway_dev import testing
from hallway_dev.testing import eventually

from .test_feed_integration import Stack, system  # noqa: F401  (the module's processes)

pytestmark = pytest.mark.integration


def _as(person) -> tuple:
    return testing.as_person(person.id)


async def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code()


async def _records(s: Stack, name: str) -> list[dict]:
    prefix = s.post_topic.removesuffix("hallway.feed.post.v1")
    out = []
    for topic in (f"hallway.feed.{name}.v1", f"hallway.feed.{name}.state.v1"):
        out += [
            orjson.loads(r.value)
            for r in await testing.topic_records(prefix + topic)
            if r.value is not None
        ]
    return out


async def test_threads_edits_reactions_and_counts(system: Stack, unique: str) -> None:  # noqa: F811
    conv = vpb_grpc.ConversationServiceStub(system.channel)
    ada, bob, cy = [await system.person(f"{n}{unique}") for n in ("cva", "cvb", "cvc")]
    post = await system.post(ada, f"thoughts {unique}")

    first = (
        await conv.CreateComment(
            vpb.CreateCommentRequest(post_id=post.id, text=f"agree @{cy.handle}"), metadata=_as(bob)
        )
    ).comment
    assert [m.handle for m in first.mentions] == [cy.handle]
    reply = (
        await conv.CreateComment(
            vpb.CreateCommentRequest(post_id=post.id, text="me too", parent_id=first.id),
            metadata=_as(cy),
        )
    ).comment
    # A reply to a reply joins the thread: one level.
    deeper = (
        await conv.CreateComment(
            vpb.CreateCommentRequest(post_id=post.id, text="and me", parent_id=reply.id),
            metadata=_as(ada),
        )
    ).comment
    assert reply.parent_id == first.id and deeper.parent_id == first.id
    second = (
        await conv.CreateComment(
            vpb.CreateCommentRequest(post_id=post.id, text="later"), metadata=_as(cy)
        )
    ).comment
    listed = await conv.ListComments(vpb.ListCommentsRequest(post_id=post.id), metadata=_as(ada))
    assert [c.id for c in listed.comments] == [first.id, reply.id, deeper.id, second.id]
    page = await conv.ListComments(
        vpb.ListCommentsRequest(post_id=post.id, page_size=1), metadata=_as(ada)
    )
    assert [c.id for c in page.comments] == [first.id, reply.id, deeper.id]
    rest = await conv.ListComments(
        vpb.ListCommentsRequest(post_id=post.id, page_token=page.next_page_token),
        metadata=_as(ada),
    )
    assert [c.id for c in rest.comments] == [second.id]

    # Edits: author only, marked, history for the author and moderators.
    assert (
        await _code(
            conv.UpdateComment(
                vpb.UpdateCommentRequest(comment_id=first.id, text="hijack"), metadata=_as(ada)
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )
    edited = (
        await conv.UpdateComment(
            vpb.UpdateCommentRequest(comment_id=first.id, text="agree, mostly"), metadata=_as(bob)
        )
    ).comment
    assert edited.HasField("edited_at") and edited.version == 2
    history = await conv.GetCommentHistory(
        vpb.GetCommentHistoryRequest(comment_id=first.id), metadata=testing.as_admin()
    )
    assert [e.text for e in history.edits] == [f"agree @{cy.handle}"]
    assert (
        await _code(
            conv.GetCommentHistory(
                vpb.GetCommentHistoryRequest(comment_id=first.id), metadata=_as(cy)
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )

    # Reactions: idempotent toggles, counts per kind, mine.
    for who, kind in ((bob, "like"), (cy, "like"), (cy, "celebrate"), (cy, "like")):
        summary = (
            await conv.AddReaction(
                vpb.AddReactionRequest(post_id=post.id, kind=kind), metadata=_as(who)
            )
        ).summary
    assert dict(summary.reaction_counts) == {"like": 2, "celebrate": 1}
    assert list(summary.my_reactions) == ["celebrate", "like"]
    assert (
        await _code(
            conv.AddReaction(
                vpb.AddReactionRequest(post_id=post.id, kind="angry"), metadata=_as(cy)
            )
        )
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    await conv.RemoveReaction(
        vpb.RemoveReactionRequest(post_id=post.id, kind="like"), metadata=_as(bob)
    )
    who = await conv.ListReactions(
        vpb.ListReactionsRequest(post_id=post.id, kind="like"), metadata=_as(ada)
    )
    assert [r.person_id for r in who.reactions] == [cy.id]

    # Counts ride along on every page, without a call per post.
    mine = await system.feed.ListPersonTimeline(
        fpb.ListTimelineRequest(person_id=ada.id), metadata=_as(cy)
    )
    shown = next(p for p in mine.posts if p.id == post.id)
    assert shown.comment_count == 4
    assert dict(shown.reaction_counts) == {"like": 1, "celebrate": 1}
    assert list(shown.my_reactions) == ["celebrate", "like"]

    # Deleting a top-level comment takes its thread.
    await conv.DeleteComment(vpb.DeleteCommentRequest(comment_id=first.id), metadata=_as(bob))
    after = await conv.ListComments(vpb.ListCommentsRequest(post_id=post.id), metadata=_as(ada))
    assert [c.id for c in after.comments] == [second.id]
    got = await system.feed.GetPost(fpb.GetPostRequest(post_id=post.id), metadata=_as(ada))
    assert got.comment_count == 1

    async def published() -> bool:
        kinds = {r["type"] for r in await _records(system, "comment") if r["post_id"] == post.id}
        return {
            "hallway.feed.comment.created",
            "hallway.feed.comment.updated",
            "hallway.feed.comment.deleted",
        } <= kinds

    await eventually(published, what="the public post's comments on the comment topic")

    async def notified() -> dict | None:
        prefix = system.post_topic.removesuffix("hallway.feed.post.v1")
        records = await testing.topic_records(prefix + "hallway.feed.notice.v1")
        got: dict = {}
        for r in records:
            n = orjson.loads(r.value)
            if n.get("post_id") == post.id and n["type"] == "hallway.feed.notice.created":
                got.setdefault(n["kind"], []).append((n["actor_id"], sorted(n["recipients"])))
        return got if {"reply", "mention", "reaction"} <= set(got) else None

    got = await eventually(notified, what="notices of replies, mentions and reactions")
    assert (bob.id, [cy.id]) in got["mention"]  # cy mentioned by bob: a mention, not a reply
    assert (bob.id, [ada.id]) in got["reply"]  # the post's author hears of the comment
    assert (cy.id, sorted([ada.id, bob.id])) in got["reply"]  # thread: author + parent
    assert (bob.id, [ada.id]) in got["reaction"]
    # Deleting the post takes its conversation off the broad topics.
    await system.feed.DeletePost(fpb.DeletePostRequest(post_id=post.id), metadata=_as(ada))
    prefix = system.post_topic.removesuffix("hallway.feed.post.v1")

    async def retracted() -> bool:
        comments = await testing.topic_state(prefix + "hallway.feed.comment.state.v1")
        reactions = await testing.topic_state(prefix + "hallway.feed.reaction.state.v1")
        return second.id not in comments and not [k for k in reactions if post.id in k]

    await eventually(retracted, what="comments and reactions tombstoned with their post")


async def test_private_conversation_stays_private(system: Stack, unique: str) -> None:  # noqa: F811
    conv = vpb_grpc.ConversationServiceStub(system.channel)
    communities = cpb_grpc.CommunityServiceStub(system.channel)
    own, out = [await system.person(f"{n}{unique}") for n in ("pvo", "pvx")]
    cid = (
        await communities.CreateCommunity(
            cpb.CreateCommunityRequest(name=f"Quiet {unique}", visibility="private"),
            metadata=_as(own),
        )
    ).community.id
    post = await system.feed.CreatePost(
        fpb.CreatePostRequest(text="inside", community_id=cid), metadata=_as(own)
    )
    comment = (
        await conv.CreateComment(
            vpb.CreateCommentRequest(post_id=post.id, text=f"inner {unique}"), metadata=_as(own)
        )
    ).comment
    await conv.AddReaction(vpb.AddReactionRequest(post_id=post.id, kind="like"), metadata=_as(own))
    for call in (
        conv.ListComments(vpb.ListCommentsRequest(post_id=post.id), metadata=_as(out)),
        conv.CreateComment(vpb.CreateCommentRequest(post_id=post.id, text="hi"), metadata=_as(out)),
        conv.AddReaction(vpb.AddReactionRequest(post_id=post.id, kind="like"), metadata=_as(out)),
        conv.ListReactions(vpb.ListReactionsRequest(post_id=post.id), metadata=_as(out)),
        conv.DeleteComment(vpb.DeleteCommentRequest(comment_id=comment.id), metadata=_as(out)),
        conv.GetCommentHistory(
            vpb.GetCommentHistoryRequest(comment_id=comment.id), metadata=_as(out)
        ),
    ):
        assert await _code(call) == grpc.StatusCode.NOT_FOUND
    blob = orjson.dumps(await _records(system, "comment") + await _records(system, "reaction"))
    assert post.id.encode() not in blob and f"inner {unique}".encode() not in blob


async def test_followed_topics_reach_the_home_timeline(system: Stack, unique: str) -> None:  # noqa: F811
    topics = vpb_grpc.TopicServiceStub(system.channel)
    ada, bob = [await system.person(f"{n}{unique}") for n in ("tpa", "tpb")]
    tag = f"T{unique}"
    post = await system.post(ada, f"news #{tag}")
    assert post.id not in await system.home_ids(bob)
    followed = await topics.FollowTopic(vpb.FollowTopicRequest(tag=f"#{tag}"), metadata=_as(bob))
    again = await topics.FollowTopic(vpb.FollowTopicRequest(tag=tag), metadata=_as(bob))
    assert followed.changed and not again.changed
    topic = await topics.GetTopic(vpb.GetTopicRequest(tag=tag), metadata=_as(bob))
    assert (topic.tag, topic.follower_count, topic.following) == (tag.lower(), 1, True)
    assert await system.home_ids(bob) == [post.id]
    listed = await topics.ListTopicPosts(vpb.ListTopicPostsRequest(tag=tag), metadata=_as(ada))
    assert [p.id for p in listed.posts] == [post.id]
    await topics.UnfollowTopic(vpb.UnfollowTopicRequest(tag=tag), metadata=_as(bob))
    assert post.id not in await system.home_ids(bob)
    assert (
        await _code(topics.GetTopic(vpb.GetTopicRequest(tag="not a tag"), metadata=_as(bob)))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    assert str(uuid.UUID(post.id))
