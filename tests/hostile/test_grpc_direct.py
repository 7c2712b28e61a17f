"""Direct gRPC to every service, bypassing the gateway, with missing or wrong credentials.

Transport: plaintext, TLS without a client certificate and a certificate from another
CA never get through the handshake (UNAVAILABLE). Identity: over proper mTLS, a call
without the gateway-signed token, or with one that is forged, expired, of another
audience or too long-lived, is UNAUTHENTICATED. Authorization: the actor comes only
from the token (no actor fields exist), so person A cannot act on B's resources, and
a non-admin cannot call admin RPCs (PERMISSION_DENIED). Health and reflection stay open
to any mTLS client, as designed, for probes and tooling.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from hostile_support import Cast, provision

from hallway.feed.v1 import (  # noqa: F401  (community, conversation: the descriptor pool)
    community_pb2,
    conversation_pb2,
    feed_pb2,
    feed_pb2_grpc,
)
from hallway.notification.v1 import notification_pb2, notification_pb2_grpc
from hallway.profile.v1 import profile_pb2, profile_pb2_grpc
from hallway.search.v1 import search_pb2, search_pb2_grpc
from hallway_common.identity import AUDIENCE, ISSUER, METADATA_KEY, IdentitySigner
from hallway_dev import devpki, testing
from hallway_dev.testing import System, eventually

pytestmark = pytest.mark.e2e

TIMEOUT = 5.0
SERVICES = ("profile", "feed", "search", "notification")


def _probe(name: str, channel: grpc.aio.Channel) -> Any:
    """One representative RPC of each service (a read any person may make)."""
    if name == "profile":
        return profile_pb2_grpc.ProfileServiceStub(channel).ListPeople
    if name == "feed":
        return feed_pb2_grpc.FeedServiceStub(channel).ListHomeTimeline
    if name == "search":
        return search_pb2_grpc.SearchServiceStub(channel).SearchPeople
    return notification_pb2_grpc.NotificationServiceStub(channel).ListNotifications


def _request(name: str) -> Any:
    return {
        "profile": profile_pb2.ListPeopleRequest(page_size=1),
        "feed": feed_pb2.ListHomeTimelineRequest(page_size=1),
        "search": search_pb2.SearchRequest(query="x", page_size=1),
        "notification": notification_pb2.ListNotificationsRequest(page_size=1),
    }[name]


def _pki() -> Path:
    return testing.pki()


def _mtls() -> grpc.ChannelCredentials:
    folder = _pki()
    return grpc.ssl_channel_credentials(
        root_certificates=(folder / "ca.crt").read_bytes(),
        private_key=(folder / "client.key").read_bytes(),
        certificate_chain=(folder / "client.crt").read_bytes(),
    )


def _channel(system: System, name: str, creds: grpc.ChannelCredentials | None) -> Any:
    address = system.processes[name].grpc_address
    if creds is None:
        return grpc.aio.insecure_channel(address)
    return grpc.aio.secure_channel(address, creds)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(sub: str, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 60}
    claims.update(over)
    return claims


def _dev_key() -> Any:
    return serialization.load_pem_private_key((_pki() / "identity.key").read_bytes(), password=None)


def _signed(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, _dev_key(), algorithm="EdDSA")


def _unsigned(alg: str, claims: dict[str, Any], key: bytes = b"") -> str:
    head = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = _b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()) if key else ""
    return f"{head}.{body}.{sig}"


# name -> identity token (for a fresh person id)
BAD_IDENTITIES: dict[str, Callable[[str], str]] = {
    "signed by another key": lambda me: IdentitySigner(ed25519.Ed25519PrivateKey.generate()).sign(
        me
    ),
    "expired": lambda me: _signed(
        _claims(me, iat=int(time.time()) - 600, exp=int(time.time()) - 60)
    ),
    "alg none": lambda me: _unsigned("none", _claims(me, roles=["admin"])),
    "HS256 keyed with the public key": lambda me: _unsigned(
        "HS256", _claims(me), (_pki() / "identity.pub").read_bytes()
    ),
    "wrong audience": lambda me: _signed(_claims(me, aud="someone-else")),
    "wrong issuer": lambda me: _signed(_claims(me, iss="hallway")),
    "lives too long": lambda me: _signed(_claims(me, exp=int(time.time()) + 86400)),
    "subject not a person id": lambda me: _signed(_claims("../admin")),
    "garbage": lambda me: "not-a-jwt",
    "the user's bearer token": lambda me: jwt.encode(
        {"sub": me, "iss": "hallway", "exp": int(time.time()) + 60}, "x" * 32
    ),
}


async def _code(call: Any, request: Any, metadata: Any = None) -> grpc.StatusCode:
    try:
        await call(request, timeout=TIMEOUT, metadata=metadata)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("name", SERVICES)
async def test_transport_without_mutual_tls_is_refused(
    system: System, name: str, tmp_path: Path
) -> None:
    ca = (_pki() / "ca.crt").read_bytes()
    foreign = devpki.ensure(tmp_path / "foreign")  # a whole other CA
    attempts = {
        "plaintext": None,
        "TLS without a client certificate": grpc.ssl_channel_credentials(root_certificates=ca),
        "client certificate from another CA": grpc.ssl_channel_credentials(
            root_certificates=ca,
            private_key=(foreign / "client.key").read_bytes(),
            certificate_chain=(foreign / "client.crt").read_bytes(),
        ),
    }
    for what, creds in attempts.items():
        async with _channel(system, name, creds) as ch:
            code = await _code(_probe(name, ch), _request(name), testing.as_admin())
            assert code == grpc.StatusCode.UNAVAILABLE, f"{name} {what}: {code}"
        # ... and the health check is no way around it either.
        async with _channel(system, name, creds) as ch:
            code = await _code(
                health_pb2_grpc.HealthStub(ch).Check, health_pb2.HealthCheckRequest()
            )
            assert code == grpc.StatusCode.UNAVAILABLE, f"{name} health {what}: {code}"


@pytest.mark.parametrize("name", SERVICES)
async def test_mtls_without_a_valid_identity_is_unauthenticated(system: System, name: str) -> None:
    me = str(uuid.uuid4())
    async with _channel(system, name, _mtls()) as ch:
        call = _probe(name, ch)
        assert await _code(call, _request(name)) == grpc.StatusCode.UNAUTHENTICATED
        for what, build in BAD_IDENTITIES.items():
            code = await _code(call, _request(name), ((METADATA_KEY, build(me)),))
            assert code == grpc.StatusCode.UNAUTHENTICATED, f"{name}: {what} -> {code}"
        # Control: the same call with a genuine identity succeeds.
        assert await _code(call, _request(name), testing.as_person(me)) == grpc.StatusCode.OK


@pytest.mark.parametrize("name", SERVICES)
async def test_health_and_reflection_stay_reachable_over_mtls(system: System, name: str) -> None:
    async with _channel(system, name, _mtls()) as ch:
        resp = await health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(), timeout=TIMEOUT
        )
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        stream = reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=TIMEOUT
        )
        names = [s.name async for r in stream for s in r.list_services_response.service]
        assert f"hallway.{name}.v1.{name.title()}Service" in names


ACTOR_FIELDS = {"author_id", "actor_id", "follower_id", "viewer_id"}
# Requests about "my own" things: the person is the token's subject, never a field.
MINE = [
    feed_pb2.CreatePostRequest,
    feed_pb2.DeletePostRequest,
    feed_pb2.ListHomeTimelineRequest,
    notification_pb2.ListNotificationsRequest,
    notification_pb2.MarkReadRequest,
    notification_pb2.StreamNotificationsRequest,
    notification_pb2.GetPreferencesRequest,
    notification_pb2.UpdatePreferencesRequest,
    profile_pb2.FollowRequest,
    search_pb2.SearchRequest,
]


def test_requests_have_no_actor_fields() -> None:
    """Impossible by construction: there is no field in which to name someone else."""
    from google.protobuf import descriptor_pool

    for svc in SERVICE_NAMES:
        for method in descriptor_pool.Default().FindServiceByName(svc).methods:
            fields = {f.name for f in method.input_type.fields}
            assert not fields & ACTOR_FIELDS, f"{svc}/{method.name} has {fields & ACTOR_FIELDS}"
    for message in MINE:
        assert "person_id" not in message.DESCRIPTOR.fields_by_name, message.__name__


async def test_person_a_cannot_act_on_person_b(system: System, cast: Cast) -> None:
    """Over genuine mTLS with A's genuine identity, B's things stay B's."""
    a, b = cast.other, cast.owner
    as_a, as_b = testing.as_person(a.id), testing.as_person(b.id)
    feed_ch = _channel(system, "feed", _mtls())
    profile_ch = _channel(system, "profile", _mtls())
    notif_ch = _channel(system, "notification", _mtls())
    async with feed_ch, profile_ch, notif_ch:
        feed = feed_pb2_grpc.FeedServiceStub(feed_ch)
        profile = profile_pb2_grpc.ProfileServiceStub(profile_ch)
        inbox = notification_pb2_grpc.NotificationServiceStub(notif_ch)

        post = await feed.CreatePost(
            feed_pb2.CreatePostRequest(text="B's post"), metadata=as_b, timeout=TIMEOUT
        )
        assert post.author_id == b.id
        code = await _code(feed.DeletePost, feed_pb2.DeletePostRequest(post_id=post.id), as_a)
        assert code == grpc.StatusCode.PERMISSION_DENIED
        again = await feed.GetPost(
            feed_pb2.GetPostRequest(post_id=post.id), metadata=as_b, timeout=TIMEOUT
        )
        assert again.text == "B's post"

        before = await profile.GetPerson(
            profile_pb2.GetPersonRequest(id=b.id), timeout=TIMEOUT, metadata=as_b
        )
        req = profile_pb2.UpdatePersonRequest(id=b.id, title="set by A")
        assert await _code(profile.UpdatePerson, req, as_a) == grpc.StatusCode.PERMISSION_DENIED
        after = await profile.GetPerson(
            profile_pb2.GetPersonRequest(id=b.id), timeout=TIMEOUT, metadata=as_b
        )
        assert after.title == before.title and after.version == before.version

        # A follows B: B gets a notification; A can neither see it nor mark it read.
        await profile.Follow(
            profile_pb2.FollowRequest(followee_id=b.id), metadata=as_a, timeout=TIMEOUT
        )

        async def b_inbox() -> Any:
            resp = await inbox.ListNotifications(
                notification_pb2.ListNotificationsRequest(page_size=50, unread_only=True),
                metadata=as_b,
                timeout=TIMEOUT,
            )
            # Only this follow's: other tests' community activity notifies B too.
            return [
                n
                for n in resp.notifications
                if n.actor_id == a.id and n.kind == notification_pb2.NOTIFICATION_KIND_NEW_FOLLOWER
            ]

        mine = await eventually(b_inbox, within=60, what="B's new-follower notification")
        ids = [n.id for n in mine]  # type: ignore[attr-defined]
        a_view = await inbox.ListNotifications(
            notification_pb2.ListNotificationsRequest(page_size=100), metadata=as_a, timeout=TIMEOUT
        )
        assert not set(ids) & {n.id for n in a_view.notifications}
        marked = await inbox.MarkRead(
            notification_pb2.MarkReadRequest(notification_ids=ids), metadata=as_a, timeout=TIMEOUT
        )
        assert marked.updated == 0
        assert [n.id for n in await b_inbox()] == ids  # still unread for B


async def test_non_admin_cannot_call_admin_rpcs(system: System, cast: Cast) -> None:
    handle = f"sneak{uuid.uuid4().hex[:8]}"
    async with _channel(system, "profile", _mtls()) as ch:
        profile = profile_pb2_grpc.ProfileServiceStub(ch)
        create = profile_pb2.CreatePersonRequest(handle=handle, display_name="Sneak")
        for who, metadata in {
            "a person": testing.as_person(cast.other.id),
            "a service identity": testing.signer().metadata("service:gateway", ["admin"]),
        }.items():
            code = await _code(profile.CreatePerson, create, metadata)
            assert code == grpc.StatusCode.PERMISSION_DENIED, f"{who}: {code}"
        email = profile_pb2.UpdatePersonRequest(id=cast.other.id, email="boss@example.com")
        code = await _code(profile.UpdatePerson, email, testing.as_person(cast.other.id))
        assert code == grpc.StatusCode.PERMISSION_DENIED, "a person set their own e-mail"
        for who, metadata in {
            "themselves": testing.as_person(cast.other.id),
            "someone else": testing.as_person(cast.owner.id),
            "a service identity": testing.signer().metadata("service:gateway", ["admin"]),
        }.items():
            remove = profile_pb2.RemovePersonRequest(id=cast.other.id, erase=True)
            code = await _code(profile.RemovePerson, remove, metadata)
            assert code == grpc.StatusCode.PERMISSION_DENIED, f"removed by {who}: {code}"
        still = await profile.GetPerson(
            profile_pb2.GetPersonRequest(id=cast.other.id), metadata=testing.as_admin()
        )
        assert still.active and still.handle == cast.other.handle, "a refused removal changed them"
        code = await _code(
            profile.GetPerson, profile_pb2.GetPersonRequest(handle=handle), testing.as_admin()
        )
        assert code == grpc.StatusCode.NOT_FOUND, "the refused person was created"
    # A service identity may read but never write on anyone's behalf.
    async with _channel(system, "feed", _mtls()) as ch:
        code = await _code(
            feed_pb2_grpc.FeedServiceStub(ch).CreatePost,
            feed_pb2.CreatePostRequest(text="as the gateway itself"),
            testing.signer().metadata("service:gateway"),
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_admin_identity_can_provision(system: System) -> None:
    """Control for the test above: the refusals are about the role, not the RPC."""
    person = await provision(system, f"prov{uuid.uuid4().hex[:8]}")
    assert person.id


# Every gRPC service, with the process that hosts it.
SERVICE_NAMES = {
    "hallway.profile.v1.ProfileService": "profile",
    "hallway.feed.v1.FeedService": "feed",
    "hallway.feed.v1.CommunityService": "feed",
    "hallway.feed.v1.ConversationService": "feed",
    "hallway.feed.v1.TopicService": "feed",
    "hallway.search.v1.SearchService": "search",
    "hallway.notification.v1.NotificationService": "notification",
}


@pytest.mark.parametrize("service_name", list(SERVICE_NAMES))
async def test_every_rpc_needs_an_identity(system: System, service_name: str) -> None:
    """Not just one probe: each method of the service, unary or streaming, refuses a
    call with no token or another key's token before doing anything."""
    from google.protobuf import descriptor_pool, message_factory

    service = descriptor_pool.Default().FindServiceByName(service_name)
    forged = ((METADATA_KEY, BAD_IDENTITIES["signed by another key"](str(uuid.uuid4()))),)
    async with _channel(system, SERVICE_NAMES[service_name], _mtls()) as ch:
        for method in service.methods:
            request = message_factory.GetMessageClass(method.input_type)()
            path = f"/{service.full_name}/{method.name}"
            make = ch.unary_stream if method.server_streaming else ch.unary_unary
            call = make(path, request_serializer=lambda m: m.SerializeToString())
            for metadata in (None, forged):
                try:
                    result = call(request, timeout=TIMEOUT, metadata=metadata)
                    if method.server_streaming:
                        await result.read()
                    else:
                        await result
                    code = grpc.StatusCode.OK
                except grpc.aio.AioRpcError as exc:
                    code = exc.code()
                assert code == grpc.StatusCode.UNAUTHENTICATED, f"{path} {metadata}: {code}"


@pytest.mark.parametrize(
    "service_name",
    [
        "hallway.feed.v1.CommunityService",
        "hallway.feed.v1.ConversationService",
        "hallway.feed.v1.TopicService",
    ],
)
async def test_community_rpcs_act_only_for_a_person(system: System, service_name: str) -> None:
    """Memberships, conversations and followed topics are a person's: the gateway acting
    as itself (a genuine service identity, even with the admin role) cannot read or
    change any of them."""
    from google.protobuf import descriptor_pool, message_factory

    service = descriptor_pool.Default().FindServiceByName(service_name)
    as_service = testing.signer().metadata("service:gateway", ["admin"])
    async with _channel(system, "feed", _mtls()) as ch:
        for method in service.methods:
            request = message_factory.GetMessageClass(method.input_type)()
            for f in method.input_type.fields:
                if f.name.endswith("_id"):
                    setattr(request, f.name, str(uuid.uuid4()))
                elif f.name in ("tag", "kind", "text"):
                    setattr(request, f.name, "like")
            call = ch.unary_unary(
                f"/{service.full_name}/{method.name}",
                request_serializer=lambda m: m.SerializeToString(),
            )
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call(request, timeout=TIMEOUT, metadata=as_service)
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, method.name


async def test_preferences_are_a_persons_and_unsubscribe_needs_a_signed_token(
    system: System, cast: Cast
) -> None:
    """GetPreferences/UpdatePreferences refuse the gateway's own identity (they are the
    token's person's); Unsubscribe takes it, but only with a token the notification
    service signed: a forged one is NOT_FOUND, for a person too, and changes nothing."""
    as_service = testing.signer().metadata("service:gateway", ["admin"])
    as_owner = testing.as_person(cast.owner.id)
    async with _channel(system, "notification", _mtls()) as ch:
        inbox = notification_pb2_grpc.NotificationServiceStub(ch)
        before = await inbox.GetPreferences(
            notification_pb2.GetPreferencesRequest(), metadata=as_owner, timeout=TIMEOUT
        )
        for call, request in (
            (inbox.GetPreferences, notification_pb2.GetPreferencesRequest()),
            (
                inbox.UpdatePreferences,
                notification_pb2.UpdatePreferencesRequest(
                    digest=notification_pb2.DIGEST_FREQUENCY_OFF
                ),
            ),
        ):
            assert await _code(call, request, as_service) == grpc.StatusCode.PERMISSION_DENIED
        payload = _b64(f"{cast.owner.id}:digest:email".encode())
        for token in (f"{payload}.{_b64(b'x' * 32)}", f"{payload}.", "not-a-token"):
            for who in (as_service, testing.as_person(cast.other.id)):
                code = await _code(
                    inbox.Unsubscribe, notification_pb2.UnsubscribeRequest(token=token), who
                )
                assert code == grpc.StatusCode.NOT_FOUND, f"{token}: {code}"
        after = await inbox.GetPreferences(
            notification_pb2.GetPreferencesRequest(), metadata=as_owner, timeout=TIMEOUT
        )
        assert after == before
