"""ProfileService over gRPC: translates protos to ``people`` calls and back."""

from __future__ import annotations

import asyncpg
import grpc

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_common.audit import audit
from hallway_common.errors import PermissionDenied
from hallway_common.fields import parse_id, timestamp
from hallway_common.identity import current_actor, require_admin, require_person
from hallway_common.pagination import page_size
from hallway_profile import people


def to_proto(row: asyncpg.Record) -> pb.Person:
    return pb.Person(
        id=str(row["id"]),
        handle=row["handle"],
        display_name=row["display_name"],
        title=row["title"],
        department=row["department"],
        manager_id=str(row["manager_id"]) if row["manager_id"] else "",
        email=row["email"] or "",
        created_at=timestamp(row["created_at"]),
        updated_at=timestamp(row["updated_at"]),
        version=row["version"],
        follower_count=row["follower_count"],
        following_count=row["following_count"],
        active=row["active"],
    )


class ProfileServicer(pb_grpc.ProfileServiceServicer):
    def __init__(self, pool: asyncpg.Pool, topic_prefix: str) -> None:
        self.pool = pool
        self.prefix = topic_prefix

    async def CreatePerson(
        self, request: pb.CreatePersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.Person:
        admin = require_admin()
        row = await people.do_create_person(
            self.pool,
            self.prefix,
            {
                "handle": request.handle,
                "display_name": request.display_name,
                "title": request.title,
                "department": request.department,
                "manager_id": parse_id(request.manager_id, "manager_id")
                if request.manager_id
                else None,
                "email": request.email,
            },
        )
        audit("person.create", "success", actor=admin.subject, target=str(row["id"]))
        return to_proto(row)

    async def GetPerson(
        self, request: pb.GetPersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.Person:
        if request.WhichOneof("key") == "handle":
            return to_proto(await people.get_person(self.pool, handle=request.handle))
        return to_proto(await people.get_person(self.pool, person_id=parse_id(request.id, "id")))

    async def BatchGetPeople(
        self, request: pb.BatchGetPeopleRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchGetPeopleResponse:
        ids = [parse_id(i, "ids") for i in request.ids]
        return pb.BatchGetPeopleResponse(
            people=[to_proto(r) for r in await people.batch_get(self.pool, ids)]
        )

    async def UpdatePerson(
        self, request: pb.UpdatePersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.Person:
        changes: dict = {
            f: getattr(request, f)
            for f in ("display_name", "title", "department", "email")
            if request.HasField(f)
        }
        if request.HasField("manager_id"):  # an empty id removes the manager
            changes["manager_id"] = (
                parse_id(request.manager_id, "manager_id") if request.manager_id else None
            )
        target = parse_id(request.id, "id")
        actor = current_actor()
        if actor.person_id != str(target) and not actor.is_admin:
            audit("person.update", "denied", actor=actor.subject, target=str(target))
            raise PermissionDenied("only the person or an administrator may change a profile")
        if "email" in changes and not actor.is_admin:
            audit(
                "person.update", "denied", actor=actor.subject, target=str(target), reason="email"
            )
            raise PermissionDenied("only provisioning (an administrator) may set e-mail addresses")
        row = await people.do_update_person(self.pool, self.prefix, target, changes)
        if actor.is_admin and (actor.person_id != str(target) or "email" in changes):
            audit("person.update", "success", actor=actor.subject, target=str(target))
        return to_proto(row)

    async def RemovePerson(
        self, request: pb.RemovePersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.Person:
        admin = require_admin()
        target = parse_id(request.id, "id")
        row = await people.do_remove_person(self.pool, self.prefix, target, erase=request.erase)
        event = "person.erase" if request.erase else "person.deactivate"
        audit(event, "success", actor=admin.subject, target=str(target))
        return to_proto(row)

    async def ListPeople(
        self, request: pb.ListPeopleRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPeopleResponse:
        page = await people.list_people(
            self.pool, page_size(request.page_size, 50, 200), request.page_token
        )
        return pb.ListPeopleResponse(
            people=[to_proto(r) for r in page.rows], next_page_token=page.next_token
        )

    async def Follow(
        self, request: pb.FollowRequest, context: grpc.aio.ServicerContext
    ) -> pb.FollowResponse:
        return await self._follow(request, follow=True)

    async def Unfollow(
        self, request: pb.FollowRequest, context: grpc.aio.ServicerContext
    ) -> pb.FollowResponse:
        return await self._follow(request, follow=False)

    async def _follow(self, request: pb.FollowRequest, follow: bool) -> pb.FollowResponse:
        changed = await people.do_follow(
            self.pool,
            self.prefix,
            require_person(),
            parse_id(request.followee_id, "followee_id"),
            follow,
        )
        return pb.FollowResponse(changed=changed)

    async def ListFollowers(
        self, request: pb.ListFollowsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPeopleResponse:
        return await self._list(request, "followers")

    async def ListFollowing(
        self, request: pb.ListFollowsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPeopleResponse:
        return await self._list(request, "following")

    async def _list(self, request: pb.ListFollowsRequest, direction: str) -> pb.ListPeopleResponse:
        page = await people.list_follows(
            self.pool,
            parse_id(request.person_id, "person_id"),
            direction,
            page_size(request.page_size, 50, 200),
            request.page_token,
        )
        return pb.ListPeopleResponse(
            people=[to_proto(r) for r in page.rows], next_page_token=page.next_token
        )
