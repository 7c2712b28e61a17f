"""Communities in the feed service as a process, on real PostgreSQL + Kafka: who may see
what, decided in feed at once, and what reaches the broad topics (read raw)."""

from __future__ import annotations

import uuid

import grpc
import orjson
import pytest

from hallway.feed.v1 import community_pb2 as cpb
from hallway.feed.v1 import community_pb2_grpc as cpb_grpc
from hallway.feed.v1 import feed_pb2 as fpb
from hallway.profile.v1 import profile_pb2 as ppb
from hallway_dev import testing
from hallway_dev.testing import eventually

from .test_feed_integration import Stack, system  # noqa: F401  (the module's processes)

pytestmark = pytest.mark.integration


class Communities:
    def __init__(self, s: Stack) -> None:
        self.s = s
        self.stub = cpb_grpc.CommunityServiceStub(s.channel)

    def __getattr__(self, rpc: str):
        method = getattr(self.stub, rpc)

        async def call(person, **fields):
            request_type = getattr(cpb, f"{rpc}Request")
            return await method(request_type(**fields), metadata=testing.as_person(person.id))

        return call


async def _code(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code(), err.value.details()


async def _post(s: Stack, author, text: str, community_id: str = "") -> fpb.Post:
    return await s.feed.CreatePost(
        fpb.CreatePostRequest(text=text, community_id=community_id),
        metadata=testing.as_person(author.id),
    )


async def _get(s: Stack, reader, post_id: str) -> fpb.Post:
    return await s.feed.GetPost(
        fpb.GetPostRequest(post_id=post_id), metadata=testing.as_person(reader.id)
    )


async def _community_posts(s: Stack, reader, community_id: str) -> list[str]:
    resp = await s.feed.ListCommunityPosts(
        fpb.ListCommunityPostsRequest(community_id=community_id),
        metadata=testing.as_person(reader.id),
    )
    return [p.id for p in resp.posts]


async def _broad(s: Stack, *names: str) -> list[dict]:
    """Every record's payload on the named broad topics (change and state)."""
    prefix = s.post_topic.removesuffix("hallway.feed.post.v1")
    out = []
    for name in names:
        for topic in (f"hallway.feed.{name}.v1", f"hallway.feed.{name}.state.v1"):
            for record in await testing.topic_records(prefix + topic):
                if record.value is not None:
                    out.append(orjson.loads(record.value))
    return out


async def test_private_community_lifecycle(system: Stack, unique: str) -> None:  # noqa: F811
    c = Communities(system)
    own, mem, out = [await system.person(f"{n}{unique}") for n in ("own", "mem", "out")]
    made = await c.CreateCommunity(own, name=f"Design {unique}", visibility="private")
    cid = made.community.id
    assert (made.community.my_state, made.community.my_role) == ("active", "owner")
    assert made.community.member_count == 1

    # Discoverable, but content and members are for members.
    seen = await c.GetCommunity(out, community_id=cid)
    assert seen.community.name == f"Design {unique}" and seen.community.my_state == ""
    listed = await c.ListCommunities(out, query=unique)
    assert [x.id for x in listed.communities] == [cid]
    code, _ = await _code(c.ListMembers(out, community_id=cid))
    assert code == grpc.StatusCode.PERMISSION_DENIED

    # Request, approve, post.
    joined = await c.JoinCommunity(mem, community_id=cid)
    assert joined.community.my_state == "requested"
    requests = await c.ListMembers(own, community_id=cid, state="requested")
    assert [m.person_id for m in requests.members] == [mem.id]
    code, _ = await _code(c.AddMember(mem, community_id=cid, person_id=out.id))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    approved = await c.AddMember(own, community_id=cid, person_id=mem.id)
    assert approved.member.state == "active"
    post = await _post(system, mem, f"private plans {unique}", cid)
    assert post.community_id == cid
    assert (await _get(system, own, post.id)).text == f"private plans {unique}"
    assert await _community_posts(system, mem, cid) == [post.id]
    assert post.id in [p.id for p in (await system.home(mem, 100)).posts]
    assert post.id in [p.id for p in (await system.home(own, 100)).posts]

    # A non-member learns nothing: the same answer as for a post that does not exist.
    hidden = await _code(_get(system, out, post.id))
    missing = await _code(_get(system, out, str(uuid.uuid4())))
    assert hidden[0] == missing[0] == grpc.StatusCode.NOT_FOUND
    assert hidden[1].split()[0] == missing[1].split()[0]
    code, _ = await _code(_community_posts(system, out, cid))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _ = await _code(_post(system, out, "let me in", cid))
    assert code == grpc.StatusCode.NOT_FOUND
    assert post.id not in [p.id for p in (await system.home(out, 100)).posts]

    # Removal takes effect at once, on every read path of feed.
    await c.RemoveMember(own, community_id=cid, person_id=mem.id)
    assert (await _code(_get(system, mem, post.id)))[0] == grpc.StatusCode.NOT_FOUND
    assert post.id not in [p.id for p in (await system.home(mem, 100)).posts]
    author_page = await system.feed.ListPersonTimeline(
        fpb.ListTimelineRequest(person_id=mem.id), metadata=testing.as_person(mem.id)
    )
    assert post.id not in [p.id for p in author_page.posts]
    assert (await c.GetCommunity(own, community_id=cid)).community.member_count == 1

    # A non-member cannot learn the post exists by trying to delete it; a manager
    # moderates it.
    gone = await _code(
        system.feed.DeletePost(
            fpb.DeletePostRequest(post_id=post.id), metadata=testing.as_person(out.id)
        )
    )
    assert gone[0] == grpc.StatusCode.NOT_FOUND
    await system.feed.DeletePost(
        fpb.DeletePostRequest(post_id=post.id), metadata=testing.as_person(own.id)
    )
    assert (await _code(_get(system, own, post.id)))[0] == grpc.StatusCode.NOT_FOUND

    # The last owner stays.
    code, _ = await _code(c.RemoveMember(own, community_id=cid, person_id=own.id))
    assert code == grpc.StatusCode.FAILED_PRECONDITION

    # Nothing of the private community's content or members is on a broad topic.
    records = await _broad(system, "post", "membership")
    assert not [r for r in records if r.get("community_id") == cid]


async def test_secret_community_does_not_exist_for_outsiders(system: Stack, unique: str) -> None:  # noqa: F811
    c = Communities(system)
    own, guest, out = [await system.person(f"{n}{unique}") for n in ("sown", "sguest", "sout")]
    cid = (
        await c.CreateCommunity(own, name=f"Skunkworks {unique}", visibility="secret")
    ).community.id
    for call in (
        c.GetCommunity(out, community_id=cid),
        c.JoinCommunity(out, community_id=cid),
        c.ListMembers(out, community_id=cid),
    ):
        got = await _code(call)
        made_up = await _code(c.GetCommunity(out, community_id=str(uuid.uuid4())))
        assert got == made_up  # byte-identical: nothing confirms it exists
    assert not (await c.ListCommunities(out, query=unique)).communities

    await c.AddMember(own, community_id=cid, person_id=guest.id)
    invited = await c.GetCommunity(guest, community_id=cid)
    assert invited.community.my_state == "invited"
    code, _ = await _code(_community_posts(system, guest, cid))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # invited, not yet a member
    await c.JoinCommunity(guest, community_id=cid)
    post = await _post(system, guest, f"secret stuff {unique}", cid)
    assert await _community_posts(system, own, cid) == [post.id]
    assert (await _code(_get(system, out, post.id)))[0] == grpc.StatusCode.NOT_FOUND

    records = await _broad(system, "community", "post", "membership")
    assert not [r for r in records if cid in orjson.dumps(r).decode()]
    assert not [
        r
        for r in records
        if unique in r.get("name", "") + r.get("text", "")
        and "Skunkworks" in r.get("name", "") + r.get("text", "")
    ]


async def test_public_community_narrowed_to_private(system: Stack, unique: str) -> None:  # noqa: F811
    c = Communities(system)
    own, mem, out = [await system.person(f"{n}{unique}") for n in ("pown", "pmem", "pout")]
    cid = (await c.CreateCommunity(own, name=f"Town hall {unique}")).community.id
    await c.JoinCommunity(mem, community_id=cid)
    post = await _post(system, mem, f"open notes {unique}", cid)
    # Public: everyone reads it, and it is on the broad topics with its members.
    assert (await _get(system, out, post.id)).id == post.id
    members = await c.ListMembers(out, community_id=cid)
    assert {m.person_id for m in members.members} == {own.id, mem.id}

    async def published() -> bool:
        records = await _broad(system, "post", "membership", "community")
        types = {r["type"] for r in records if r.get("community_id") == cid}
        return {
            "hallway.feed.post.created",
            "hallway.feed.membership.created",
            "hallway.feed.community.created",
        } <= types

    await eventually(published, what="public community on the broad topics")

    # Only members may post; only managers may change it.
    code, _ = await _code(_post(system, out, "drive-by", cid))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _ = await _code(c.UpdateCommunity(mem, community_id=cid, visibility="private"))
    assert code == grpc.StatusCode.PERMISSION_DENIED

    narrowed = await c.UpdateCommunity(own, community_id=cid, visibility="private")
    assert narrowed.community.visibility == "private"
    assert (await _code(_get(system, out, post.id)))[0] == grpc.StatusCode.NOT_FOUND
    assert (await _get(system, mem, post.id)).id == post.id
    code, _ = await _code(c.UpdateCommunity(own, community_id=cid, visibility="public"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION

    async def withdrawn() -> bool:
        records = await _broad(system, "post", "membership")
        types = [r["type"] for r in records if r.get("community_id") == cid]
        return (
            "hallway.feed.post.withdrawn" in types
            and types.count("hallway.feed.membership.deleted") == 2
        )

    await eventually(withdrawn, what="post and members withdrawn from the broad topics")
    post_state = await testing.topic_state(system.post_topic.replace(".v1", ".state.v1"))
    assert post.id not in post_state
    prefix = system.post_topic.removesuffix("hallway.feed.post.v1")
    memberships = await testing.topic_state(prefix + "hallway.feed.membership.state.v1")
    assert not [k for k in memberships if k.startswith(cid)]
    communities = await testing.topic_state(prefix + "hallway.feed.community.state.v1")
    assert orjson.loads(communities[cid])["visibility"] == "private"

    # Admins-only posting.
    await c.UpdateCommunity(own, community_id=cid, posting="admins")
    code, _ = await _code(_post(system, mem, "not allowed now", cid))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    await c.UpdateMember(own, community_id=cid, person_id=mem.id, role="admin")
    assert (await _post(system, mem, f"announcement {unique}", cid)).community_id == cid


async def test_erasing_a_person_ends_their_memberships(system: Stack, unique: str) -> None:  # noqa: F811
    c = Communities(system)
    own, gone = [await system.person(f"{n}{unique}") for n in ("eown", "egone")]
    cid = (await c.CreateCommunity(own, name=f"Erasure {unique}")).community.id
    await c.JoinCommunity(gone, community_id=cid)
    assert (await c.GetCommunity(own, community_id=cid)).community.member_count == 2
    await system.profile.RemovePerson(
        ppb.RemovePersonRequest(id=gone.id, erase=True), metadata=testing.as_admin()
    )

    async def ended() -> bool:
        members = await c.ListMembers(own, community_id=cid)
        return [m.person_id for m in members.members] == [own.id]

    await eventually(ended, what="the erased person's membership ended")
    assert (await c.GetCommunity(own, community_id=cid)).community.member_count == 1

    async def published() -> bool:
        records = await _broad(system, "membership")
        return any(
            r["type"] == "hallway.feed.membership.deleted" and r["person_id"] == gone.id
            for r in records
        )

    await eventually(published, what="membership.deleted for the erased person")
