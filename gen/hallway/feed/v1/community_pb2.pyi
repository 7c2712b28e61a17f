import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Community(_message.Message):
    __slots__ = ("id", "name", "description", "visibility", "official", "posting", "created_by", "member_count", "created_at", "version", "my_state", "my_role")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    OFFICIAL_FIELD_NUMBER: _ClassVar[int]
    POSTING_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MY_STATE_FIELD_NUMBER: _ClassVar[int]
    MY_ROLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    visibility: str
    official: bool
    posting: str
    created_by: str
    member_count: int
    created_at: _timestamp_pb2.Timestamp
    version: int
    my_state: str
    my_role: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., visibility: _Optional[str] = ..., official: _Optional[bool] = ..., posting: _Optional[str] = ..., created_by: _Optional[str] = ..., member_count: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., my_state: _Optional[str] = ..., my_role: _Optional[str] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("community_id", "person_id", "state", "role", "created_at", "notify_posts")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_POSTS_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    person_id: str
    state: str
    role: str
    created_at: _timestamp_pb2.Timestamp
    notify_posts: bool
    def __init__(self, community_id: _Optional[str] = ..., person_id: _Optional[str] = ..., state: _Optional[str] = ..., role: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., notify_posts: _Optional[bool] = ...) -> None: ...

class CreateCommunityRequest(_message.Message):
    __slots__ = ("name", "description", "visibility", "official", "posting")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    OFFICIAL_FIELD_NUMBER: _ClassVar[int]
    POSTING_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    visibility: str
    official: bool
    posting: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., visibility: _Optional[str] = ..., official: _Optional[bool] = ..., posting: _Optional[str] = ...) -> None: ...

class CreateCommunityResponse(_message.Message):
    __slots__ = ("community",)
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    community: Community
    def __init__(self, community: _Optional[_Union[Community, _Mapping]] = ...) -> None: ...

class GetCommunityRequest(_message.Message):
    __slots__ = ("community_id",)
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    def __init__(self, community_id: _Optional[str] = ...) -> None: ...

class GetCommunityResponse(_message.Message):
    __slots__ = ("community",)
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    community: Community
    def __init__(self, community: _Optional[_Union[Community, _Mapping]] = ...) -> None: ...

class UpdateCommunityRequest(_message.Message):
    __slots__ = ("community_id", "name", "description", "visibility", "posting")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    POSTING_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    name: str
    description: str
    visibility: str
    posting: str
    def __init__(self, community_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., visibility: _Optional[str] = ..., posting: _Optional[str] = ...) -> None: ...

class UpdateCommunityResponse(_message.Message):
    __slots__ = ("community",)
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    community: Community
    def __init__(self, community: _Optional[_Union[Community, _Mapping]] = ...) -> None: ...

class ListCommunitiesRequest(_message.Message):
    __slots__ = ("query", "mine", "page_size", "page_token")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    MINE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    query: str
    mine: bool
    page_size: int
    page_token: str
    def __init__(self, query: _Optional[str] = ..., mine: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCommunitiesResponse(_message.Message):
    __slots__ = ("communities", "next_page_token")
    COMMUNITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    communities: _containers.RepeatedCompositeFieldContainer[Community]
    next_page_token: str
    def __init__(self, communities: _Optional[_Iterable[_Union[Community, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class JoinCommunityRequest(_message.Message):
    __slots__ = ("community_id",)
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    def __init__(self, community_id: _Optional[str] = ...) -> None: ...

class JoinCommunityResponse(_message.Message):
    __slots__ = ("community",)
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    community: Community
    def __init__(self, community: _Optional[_Union[Community, _Mapping]] = ...) -> None: ...

class AddMemberRequest(_message.Message):
    __slots__ = ("community_id", "person_id")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    person_id: str
    def __init__(self, community_id: _Optional[str] = ..., person_id: _Optional[str] = ...) -> None: ...

class AddMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: Member
    def __init__(self, member: _Optional[_Union[Member, _Mapping]] = ...) -> None: ...

class RemoveMemberRequest(_message.Message):
    __slots__ = ("community_id", "person_id")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    person_id: str
    def __init__(self, community_id: _Optional[str] = ..., person_id: _Optional[str] = ...) -> None: ...

class RemoveMemberResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdateMemberRequest(_message.Message):
    __slots__ = ("community_id", "person_id", "role", "notify_posts")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_POSTS_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    person_id: str
    role: str
    notify_posts: bool
    def __init__(self, community_id: _Optional[str] = ..., person_id: _Optional[str] = ..., role: _Optional[str] = ..., notify_posts: _Optional[bool] = ...) -> None: ...

class UpdateMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: Member
    def __init__(self, member: _Optional[_Union[Member, _Mapping]] = ...) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("community_id", "state", "page_size", "page_token")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    state: str
    page_size: int
    page_token: str
    def __init__(self, community_id: _Optional[str] = ..., state: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("members", "next_page_token")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    next_page_token: str
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
