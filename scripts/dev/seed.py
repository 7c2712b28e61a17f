"""Seeds a small demo organisation through the public gRPC APIs (idempotent).

Thirty-six people in four departments with a reporting line, follows along teams
and managers, a few dozen posts with @mentions and #hashtags, communities of each
visibility with members and posts, and comments and reactions, so a newcomer's
first page is not empty. Skipped when the first person already exists.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from pathlib import Path

import grpc

from hallway.feed.v1 import (
    community_pb2,
    community_pb2_grpc,
    conversation_pb2,
    conversation_pb2_grpc,
    feed_pb2,
    feed_pb2_grpc,
)
from hallway.profile.v1 import profile_pb2, profile_pb2_grpc
from hallway_common.grpc_client import channel, client_credentials
from hallway_common.identity import IdentitySigner

# The seed acts as an administrator who is nobody in the directory (a bootstrap
# identity), then as each seeded person for their own follows and posts.
BOOTSTRAP_ADMIN = "00000000-0000-0000-0000-000000000001"

FIRST = "ada grace alan barbara edsger donald margaret linus ken dennis bjarne guido".split()
LAST = "lovelace hopper turing liskov dijkstra knuth hamilton torvalds thompson ritchie".split()
DEPARTMENTS = {
    "Engineering": ["Platform engineer", "Backend engineer", "SRE"],
    "Sales": ["Account executive", "Sales engineer"],
    "People": ["HR partner", "Recruiter"],
    "Operations": ["Warehouse lead", "Shift supervisor", "Logistics planner"],
}
TOPICS = ["launch", "safety", "onboarding", "kudos", "q3", "ideas"]
REACTIONS = ["like", "celebrate", "insightful", "support", "funny"]
# (name, visibility, description, department whose people make it up)
COMMUNITIES = [
    ("Platform guild", "public", "Everything about our platform and tooling.", "Engineering"),
    ("Sales kickoff", "private", "Planning the yearly kickoff.", "Sales"),
    ("Reorg planning", "secret", "Confidential: the new team structure.", "People"),
    ("Site safety", "public", "Safety notes from every site. #safety", "Operations"),
]
LINES = [
    "Shipped the new release today, thanks {m} for the late-night review! #launch",
    "Reminder: safety walk-through at 10:00 on the loading dock #safety",
    "Welcome to the team, {m}! Ask me anything about our tooling. #onboarding",
    "Huge #kudos to {m} for untangling the billing outage.",
    "Draft plan for #q3 is in the shared folder; comments welcome, {m}.",
    "What if we ran a monthly demo day? {m} volunteered to host. #ideas",
    "Coffee machine on floor 2 is fixed. Productivity restored.",
    "Looking for someone who knows Kafka consumer groups well - {m}? #ideas",
]


async def main() -> int:
    rnd = random.Random(42)
    pki = Path(os.environ["HALLWAY_DEV_PKI"])
    signer = IdentitySigner.from_file(str(pki / "identity.key"))
    creds = client_credentials(
        str(pki / "client.crt"), str(pki / "client.key"), str(pki / "ca.crt")
    )
    profile = profile_pb2_grpc.ProfileServiceStub(
        channel(os.environ.get("HALLWAY_PROFILE_ADDR", "localhost:50051"), 10, credentials=creds)
    )
    feed_channel = channel(
        os.environ.get("HALLWAY_FEED_ADDR", "localhost:50052"), 10, credentials=creds
    )
    feed = feed_pb2_grpc.FeedServiceStub(feed_channel)
    communities = community_pb2_grpc.CommunityServiceStub(feed_channel)
    conversations = conversation_pb2_grpc.ConversationServiceStub(feed_channel)
    admin = signer.metadata(BOOTSTRAP_ADMIN, ["admin"])
    try:
        await profile.GetPerson(profile_pb2.GetPersonRequest(handle="ada"), metadata=admin)
        print("seed: demo organisation already present")
        return 0
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:
            raise

    people: list[profile_pb2.Person] = []
    by_dept: dict[str, list[profile_pb2.Person]] = {d: [] for d in DEPARTMENTS}
    for i in range(36):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        handle = first if i < len(FIRST) else f"{first}.{last}"[:32]
        dept = list(DEPARTMENTS)[i % len(DEPARTMENTS)]
        team = by_dept[dept]
        manager = team[0].id if team else (people[0].id if people else "")
        person = await profile.CreatePerson(
            profile_pb2.CreatePersonRequest(
                handle=handle,
                display_name=f"{first.title()} {last.title()}",
                title=rnd.choice(DEPARTMENTS[dept]) if team else f"Head of {dept}",
                department=dept,
                manager_id=manager,
                email=f"{handle}@example.com",
            ),
            metadata=admin,
        )
        people.append(person)
        team.append(person)
    print(f"seed: {len(people)} people")

    follows = 0
    for person in people:
        targets = {p.id for p in by_dept[person.department][:6]}
        if person.manager_id:
            targets.add(person.manager_id)
        targets |= {p.id for p in rnd.sample(people, 4)}
        targets.discard(person.id)
        for target in targets:
            await profile.Follow(
                profile_pb2.FollowRequest(followee_id=target),
                metadata=signer.metadata(person.id),
            )
            follows += 1
    print(f"seed: {follows} follows")

    # Give feed a moment to receive the people it must resolve mentions against.
    await asyncio.sleep(2)
    for i in range(48):
        author = people[i % len(people)]
        mentioned = rnd.choice([p for p in people if p.id != author.id])
        text = LINES[i % len(LINES)].format(m=f"@{mentioned.handle}")
        await feed.CreatePost(
            feed_pb2.CreatePostRequest(text=text, idempotency_key=f"seed-{i}"),
            metadata=signer.metadata(author.id),
        )
    print("seed: 48 posts")

    made = 0
    for name, visibility, about, dept in COMMUNITIES:
        team = by_dept[dept]
        owner = team[0]
        c = await communities.CreateCommunity(
            community_pb2.CreateCommunityRequest(
                name=name, description=about, visibility=visibility
            ),
            metadata=signer.metadata(owner.id),
        )
        cid = c.community.id
        for member in team[1:7]:
            if visibility == "public":
                await communities.JoinCommunity(
                    community_pb2.JoinCommunityRequest(community_id=cid),
                    metadata=signer.metadata(member.id),
                )
            else:  # invited, then accepted
                await communities.AddMember(
                    community_pb2.AddMemberRequest(community_id=cid, person_id=member.id),
                    metadata=signer.metadata(owner.id),
                )
                await communities.JoinCommunity(
                    community_pb2.JoinCommunityRequest(community_id=cid),
                    metadata=signer.metadata(member.id),
                )
        for j, author in enumerate(team[:4]):
            post = await feed.CreatePost(
                feed_pb2.CreatePostRequest(
                    text=f"{about} Update {j + 1} from {author.display_name}.",
                    community_id=cid,
                    idempotency_key=f"seed-{cid}-{j}",
                ),
                metadata=signer.metadata(author.id),
            )
            for reader in team[4:7]:
                await conversations.AddReaction(
                    conversation_pb2.AddReactionRequest(
                        post_id=post.id, kind=rnd.choice(REACTIONS)
                    ),
                    metadata=signer.metadata(reader.id),
                )
            await conversations.CreateComment(
                conversation_pb2.CreateCommentRequest(post_id=post.id, text="Thanks for this!"),
                metadata=signer.metadata(team[5].id),
            )
        made += 1
    print(f"seed: {made} communities with members, posts, comments and reactions")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
