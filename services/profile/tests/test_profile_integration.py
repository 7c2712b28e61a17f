"""The profile service as a process against real PostgreSQL and Kafka."""

from __future__ import annotations

import uuid

import grpc
import orjson
import pytest

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def profile(topic_prefix: str):
    dsn = await testing.migrated_database("profile", ["hallway_profile"])
    proc = testing.service_process("profile", topic_prefix, database_url=dsn).start()
    ch = testing.service_channel(proc.grpc_address)
    yield pb_grpc.ProfileServiceStub(ch), proc, dsn
    await ch.close()
    proc.stop()


async def _person(stub, handle: str, **fields) -> pb.Person:
    return await stub.CreatePerson(
        pb.CreatePersonRequest(handle=handle, display_name=handle.title(), **fields)
    )


async def test_create_get_update_person(profile, unique: str) -> None:
    stub, _, _ = profile
    boss = await _person(stub, f"boss{unique}", department="Eng")
    ada = await _person(stub, f"ada{unique}", manager_id=boss.id, email="ada@example.com")
    assert ada.manager_id == boss.id and ada.version == 1

    got = await stub.GetPerson(pb.GetPersonRequest(handle=ada.handle))
    assert got.id == ada.id and got.email == "ada@example.com"

    updated = await stub.UpdatePerson(pb.UpdatePersonRequest(id=ada.id, title="CTO"))
    assert updated.title == "CTO" and updated.version == 2
    cleared = await stub.UpdatePerson(pb.UpdatePersonRequest(id=ada.id, manager_id=""))
    assert cleared.manager_id == "" and cleared.version == 3


async def test_bad_input_is_rejected_and_writes_nothing(profile, unique: str) -> None:
    stub, _, dsn = profile
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _person(stub, "Not A Handle")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "handle" in err.value.details()

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _person(stub, f"x{unique}", manager_id=str(uuid.uuid4()))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    await _person(stub, f"dup{unique}")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _person(stub, f"dup{unique}")
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetPerson(pb.GetPersonRequest(id=str(uuid.uuid4())))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND

    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM people WHERE handle = $1", f"x{unique}") == 0
        )
    finally:
        await conn.close()


async def test_manager_cycle_is_rejected(profile, unique: str) -> None:
    stub, _, _ = profile
    a = await _person(stub, f"a{unique}")
    b = await _person(stub, f"b{unique}", manager_id=a.id)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.UpdatePerson(pb.UpdatePersonRequest(id=a.id, manager_id=b.id))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cycle" in err.value.details()


async def test_follow_lists_and_events(profile, unique: str, topic_prefix: str) -> None:
    stub, _, _ = profile
    a, b, c = [await _person(stub, f"{n}{unique}") for n in "fgh"]
    assert (
        await stub.Follow(pb.FollowRequest(followee_id=b.id), metadata=testing.as_person(a.id))
    ).changed
    assert not (
        await stub.Follow(pb.FollowRequest(followee_id=b.id), metadata=testing.as_person(a.id))
    ).changed
    await stub.Follow(pb.FollowRequest(followee_id=b.id), metadata=testing.as_person(c.id))

    followers = await stub.ListFollowers(pb.ListFollowsRequest(person_id=b.id, page_size=1))
    assert [p.id for p in followers.people] == [c.id] and followers.next_page_token
    rest = await stub.ListFollowers(
        pb.ListFollowsRequest(person_id=b.id, page_size=1, page_token=followers.next_page_token)
    )
    assert [p.id for p in rest.people] == [a.id] and not rest.next_page_token
    assert (await stub.GetPerson(pb.GetPersonRequest(id=b.id))).follower_count == 2

    assert (
        await stub.Unfollow(pb.FollowRequest(followee_id=b.id), metadata=testing.as_person(a.id))
    ).changed
    following = await stub.ListFollowing(pb.ListFollowsRequest(person_id=a.id))
    assert list(following.people) == []

    # The outbox relay published created, created, deleted for a's key, in order.
    topic = f"{topic_prefix}hallway.profile.follow.v1"

    async def events_of_a() -> list[tuple[dict, dict]] | None:
        records = [r for r in await testing.topic_records(topic) if r.key == a.id.encode()]
        if len(records) < 2:
            return None
        return [(testing.headers_of(r), orjson.loads(r.value)) for r in records]

    events = await testing.eventually(events_of_a, within=30, what="both follow events of a")
    assert [h["ce_type"] for h, _ in events] == [
        "hallway.profile.follow.created",
        "hallway.profile.follow.deleted",
    ]
    header, body = events[0]
    assert header["ce_specversion"] == "1.0" and header["traceparent"].startswith("00-")
    assert body == {**body, "follower_id": a.id, "followee_id": b.id}


async def test_control_characters_are_refused_at_the_boundary(profile, unique: str) -> None:
    """A NUL in any field is INVALID_ARGUMENT naming the field (it used to reach
    PostgreSQL and come back as a server error); nothing is written."""
    stub, _, _ = profile
    person = await _person(stub, f"ctl{unique}")
    for request in (
        pb.CreatePersonRequest(handle=f"nul{unique}", display_name="A\x00B"),
        pb.UpdatePersonRequest(id=person.id, title="CEO\x00"),
        pb.UpdatePersonRequest(id=person.id, department="Sales\x1b[31m"),
    ):
        call = (
            stub.CreatePerson if isinstance(request, pb.CreatePersonRequest) else stub.UpdatePerson
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "control characters" in err.value.details()
    assert (await stub.GetPerson(pb.GetPersonRequest(id=person.id))).version == person.version
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetPerson(pb.GetPersonRequest(handle=f"nul{unique}"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_email_is_unique_well_formed_and_set_only_by_provisioning(
    profile, unique: str
) -> None:
    stub, _, _ = profile
    ada = await _person(stub, f"em{unique}", email=f"Ada.{unique}@Example.COM")
    assert ada.email == f"Ada.{unique}@example.com"  # normal form: domain lower-cased
    for email in (f"ada.{unique}@example.com", f"ADA.{unique}@EXAMPLE.com"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _person(stub, f"em2{unique}", email=email)
        assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS, email
    bob = await _person(stub, f"eb{unique}")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.UpdatePerson(
            pb.UpdatePersonRequest(id=bob.id, email=f"ada.{unique}@example.com")
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    for bad in ("not-an-address", "a@b", "two@@example.com"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.UpdatePerson(pb.UpdatePersonRequest(id=bob.id, email=bad))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad
    # A person may edit their own profile, but not their e-mail address, nor anyone else's.
    as_bob = testing.as_person(bob.id)
    await stub.UpdatePerson(pb.UpdatePersonRequest(id=bob.id, title="Engineer"), metadata=as_bob)
    for request in (
        pb.UpdatePersonRequest(id=bob.id, email=f"bob.{unique}@example.com"),
        pb.UpdatePersonRequest(id=ada.id, title="Intern"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.UpdatePerson(request, metadata=as_bob)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreatePerson(
            pb.CreatePersonRequest(handle=f"ec{unique}", display_name="X"), metadata=as_bob
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await stub.GetPerson(pb.GetPersonRequest(id=bob.id))).email == ""


async def test_erasing_a_person_publishes_every_change_it_makes(
    profile, unique: str, topic_prefix: str
) -> None:
    stub, _, _ = profile
    boss = await _person(stub, f"eboss{unique}", email=f"eboss{unique}@example.com")
    report = await _person(stub, f"erep{unique}", manager_id=boss.id)
    fan = await _person(stub, f"efan{unique}")
    await stub.Follow(pb.FollowRequest(followee_id=boss.id), metadata=testing.as_person(fan.id))

    erased = await stub.RemovePerson(pb.RemovePersonRequest(id=boss.id, erase=True))
    assert not erased.active and erased.email == "" and erased.handle.startswith("erased-")
    assert erased.display_name == "Erased person"
    again = await stub.RemovePerson(pb.RemovePersonRequest(id=boss.id, erase=True))
    assert again.version == erased.version, "erasing twice changes nothing"

    # The report lost their manager: a change of theirs, versioned and published.
    after = await stub.GetPerson(pb.GetPersonRequest(id=report.id))
    assert after.manager_id == "" and after.version == report.version + 1
    people = f"{topic_prefix}hallway.profile.person.v1"

    async def published() -> list[str] | None:
        records = [
            testing.headers_of(r)["ce_type"]
            for r in await testing.topic_records(people)
            if r.key in (boss.id.encode(), report.id.encode())
        ]
        return records if len(records) >= 5 else None

    types = await testing.eventually(published, within=30, what="the erasure's events")
    assert types.count("hallway.profile.person.removed") == 1
    assert types.count("hallway.profile.person.updated") == 2  # boss scrubbed, report moved

    # Every trace is gone from the state topics: the person and their follow edges.
    async def state() -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for topic in ("person", "follow"):
            for r in await testing.topic_records(f"{topic_prefix}hallway.profile.{topic}.state.v1"):
                out[r.key.decode()] = r.value
        return out

    async def tombstoned() -> bool:
        s = await state()
        return s.get(boss.id, b"") is None and s.get(f"{fan.id}:{boss.id}", b"") is None

    await testing.eventually(tombstoned, within=30, what="tombstones for the erased person")
    assert (await stub.GetPerson(pb.GetPersonRequest(id=fan.id))).following_count == 0
