"""The feed service process: posts and timelines over gRPC, events via the outbox,
replicas of people and follows, and the home timeline fan-out."""

from __future__ import annotations

from pydantic import Field

from hallway.feed.v1 import (
    community_pb2,
    community_pb2_grpc,
    conversation_pb2,
    conversation_pb2_grpc,
    feed_pb2,
    feed_pb2_grpc,
)
from hallway_common import catalogue
from hallway_common.config import DatabaseSettings
from hallway_common.contracts import FOLLOW, PERSON, POST, produced_by
from hallway_common.outbox import StateTable
from hallway_common.runtime import Runtime, republish_command, run
from hallway_feed import communities, conversations, posts, rebuild
from hallway_feed.fanout import FanoutHandler
from hallway_feed.grpc_api import (
    CommunityServicer,
    ConversationServicer,
    FeedServicer,
    TopicServicer,
)
from hallway_feed.replica import FollowHandler, PersonHandler

SERVICE_NAME = feed_pb2.DESCRIPTOR.services_by_name["FeedService"].full_name
COMMUNITY_SERVICE_NAME = community_pb2.DESCRIPTOR.services_by_name["CommunityService"].full_name
_CONVERSATION = conversation_pb2.DESCRIPTOR.services_by_name
CONVERSATION_SERVICE_NAME = _CONVERSATION["ConversationService"].full_name
TOPIC_SERVICE_NAME = _CONVERSATION["TopicService"].full_name
DEFAULTS = {
    # gRPC and metrics ports: the service catalogue's (docs/deploy.md#ports-consumer-groups-and-topics)
    **catalogue.service("feed").defaults(),
    "database_url": "postgresql://hallway:hallway@localhost:5433/feed",
}


class FeedSettings(DatabaseSettings):
    # HALLWAY_FEED_FANOUT_MAX_FOLLOWERS: authors above this are merged on read.
    feed_fanout_max_followers: int = Field(default=10_000, ge=0)
    # HALLWAY_FEED_FOLLOW_BACKFILL_POSTS: recent posts copied on follow (0 = none).
    feed_follow_backfill_posts: int = Field(default=20, ge=0, le=1000)


async def build(rt: Runtime[FeedSettings]) -> None:
    assert rt.pool is not None
    pool, settings = rt.pool, rt.settings
    rt.produces += produced_by("feed")
    rt.grpc.add(
        feed_pb2_grpc.add_FeedServiceServicer_to_server,
        FeedServicer(pool, settings.kafka_topic_prefix),
        SERVICE_NAME,
    )
    rt.grpc.add(
        community_pb2_grpc.add_CommunityServiceServicer_to_server,
        CommunityServicer(pool, settings.kafka_topic_prefix),
        COMMUNITY_SERVICE_NAME,
    )
    rt.grpc.add(
        conversation_pb2_grpc.add_ConversationServiceServicer_to_server,
        ConversationServicer(pool, settings.kafka_topic_prefix),
        CONVERSATION_SERVICE_NAME,
    )
    rt.grpc.add(
        conversation_pb2_grpc.add_TopicServiceServicer_to_server,
        TopicServicer(pool),
        TOPIC_SERVICE_NAME,
    )
    replicas = rt.consumer("hallway-feed")
    # People replica: mention resolution and author checks; erasure ends memberships.
    replicas.on(PERSON, PersonHandler(settings.kafka_topic_prefix))
    # Follow graph replica for fan-out; unfollow removes the followee from the home timeline.
    replicas.on(FOLLOW, FollowHandler(settings.feed_follow_backfill_posts))
    # Home timeline fan-out on write (merge on read for large authors).
    rt.consumer("hallway-feed-fanout").on(POST, FanoutHandler(settings.feed_fanout_max_followers))


# Visibility comes from a subquery, not a join: republish reads rows FOR SHARE.
REPUBLISH_STATE = republish_command(
    StateTable(
        "posts",
        f"""SELECT {posts.POST_COLUMNS}, p.deleted_at,
                   (SELECT visibility FROM communities c WHERE c.id = p.community_id) AS visibility
            FROM posts p""",
        ("p.id",),
        posts.public_post_record,  # a tombstone for a deleted post, none for a private one
    ),
    StateTable(
        "communities",
        f"SELECT {communities.COMMUNITY_COLUMNS} FROM communities c",
        ("c.id",),
        communities.public_community_record,  # none for a secret one
    ),
    StateTable(
        "memberships",
        f"""SELECT {communities.MEMBER_COLUMNS}, m.updated_at,
                   (SELECT visibility FROM communities c WHERE c.id = m.community_id) AS visibility
            FROM memberships m""",
        ("m.community_id", "m.person_id"),
        communities.public_membership_record,  # none unless active in a public community
    ),
    StateTable(
        "comments",
        f"""SELECT {conversations.COMMENT_COLUMNS}, cm.deleted_at,
                   (SELECT row(p.author_id, p.deleted_at IS NULL AND coalesce(
                        (SELECT c.visibility = 'public' FROM communities c
                         WHERE c.id = p.community_id), true))
                    FROM posts p WHERE p.id = cm.post_id) AS post,
                   (SELECT pc.author_id FROM comments pc WHERE pc.id = cm.parent_id)
                       AS parent_author_id
            FROM comments cm""",
        ("cm.id",),
        conversations.public_comment_record,  # none unless on a live public post
    ),
    StateTable(
        "reactions",
        """SELECT r.post_id, r.person_id, r.kind, r.created_at,
                  (SELECT row(p.author_id, p.deleted_at IS NULL AND coalesce(
                       (SELECT c.visibility = 'public' FROM communities c
                        WHERE c.id = p.community_id), true))
                   FROM posts p WHERE p.id = r.post_id) AS post
           FROM reactions r""",
        ("r.post_id", "r.person_id", "r.kind"),
        conversations.public_reaction_record,  # none unless on a live public post
    ),
)


def main(argv: list[str] | None = None) -> None:
    run(
        "feed",
        FeedSettings,
        build,
        defaults=DEFAULTS,
        migrate_packages=["hallway_feed"],
        commands={"republish-state": REPUBLISH_STATE, "rebuild": rebuild.COMMAND},
        argv=argv,
    )
