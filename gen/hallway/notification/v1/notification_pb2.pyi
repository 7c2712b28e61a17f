import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_KIND_UNSPECIFIED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_MENTION: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_NEW_FOLLOWER: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_REPLY: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_REACTION: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_COMMUNITY_INVITE: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_JOIN_REQUEST: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_REQUEST_APPROVED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_COMMUNITY_POST: _ClassVar[NotificationKind]

class NotificationChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_CHANNEL_UNSPECIFIED: _ClassVar[NotificationChannel]
    NOTIFICATION_CHANNEL_IN_APP: _ClassVar[NotificationChannel]
    NOTIFICATION_CHANNEL_EMAIL: _ClassVar[NotificationChannel]

class DigestFrequency(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIGEST_FREQUENCY_UNSPECIFIED: _ClassVar[DigestFrequency]
    DIGEST_FREQUENCY_OFF: _ClassVar[DigestFrequency]
    DIGEST_FREQUENCY_DAILY: _ClassVar[DigestFrequency]
    DIGEST_FREQUENCY_WEEKLY: _ClassVar[DigestFrequency]
NOTIFICATION_KIND_UNSPECIFIED: NotificationKind
NOTIFICATION_KIND_MENTION: NotificationKind
NOTIFICATION_KIND_NEW_FOLLOWER: NotificationKind
NOTIFICATION_KIND_REPLY: NotificationKind
NOTIFICATION_KIND_REACTION: NotificationKind
NOTIFICATION_KIND_COMMUNITY_INVITE: NotificationKind
NOTIFICATION_KIND_JOIN_REQUEST: NotificationKind
NOTIFICATION_KIND_REQUEST_APPROVED: NotificationKind
NOTIFICATION_KIND_COMMUNITY_POST: NotificationKind
NOTIFICATION_CHANNEL_UNSPECIFIED: NotificationChannel
NOTIFICATION_CHANNEL_IN_APP: NotificationChannel
NOTIFICATION_CHANNEL_EMAIL: NotificationChannel
DIGEST_FREQUENCY_UNSPECIFIED: DigestFrequency
DIGEST_FREQUENCY_OFF: DigestFrequency
DIGEST_FREQUENCY_DAILY: DigestFrequency
DIGEST_FREQUENCY_WEEKLY: DigestFrequency

class Notification(_message.Message):
    __slots__ = ("id", "person_id", "kind", "actor_id", "post_id", "snippet", "created_at", "read", "comment_id", "community_id", "community_name", "reaction", "actor_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    POST_ID_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    READ_FIELD_NUMBER: _ClassVar[int]
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_NAME_FIELD_NUMBER: _ClassVar[int]
    REACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    person_id: str
    kind: NotificationKind
    actor_id: str
    post_id: str
    snippet: str
    created_at: _timestamp_pb2.Timestamp
    read: bool
    comment_id: str
    community_id: str
    community_name: str
    reaction: str
    actor_count: int
    def __init__(self, id: _Optional[str] = ..., person_id: _Optional[str] = ..., kind: _Optional[_Union[NotificationKind, str]] = ..., actor_id: _Optional[str] = ..., post_id: _Optional[str] = ..., snippet: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., read: _Optional[bool] = ..., comment_id: _Optional[str] = ..., community_id: _Optional[str] = ..., community_name: _Optional[str] = ..., reaction: _Optional[str] = ..., actor_count: _Optional[int] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "unread_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNREAD_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    unread_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., unread_only: _Optional[bool] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_page_token", "unread_count")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    next_page_token: str
    unread_count: int
    def __init__(self, notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., unread_count: _Optional[int] = ...) -> None: ...

class MarkReadRequest(_message.Message):
    __slots__ = ("notification_ids", "all")
    NOTIFICATION_IDS_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    notification_ids: _containers.RepeatedScalarFieldContainer[str]
    all: bool
    def __init__(self, notification_ids: _Optional[_Iterable[str]] = ..., all: _Optional[bool] = ...) -> None: ...

class MarkReadResponse(_message.Message):
    __slots__ = ("updated", "unread_count")
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    updated: int
    unread_count: int
    def __init__(self, updated: _Optional[int] = ..., unread_count: _Optional[int] = ...) -> None: ...

class StreamNotificationsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamNotificationsResponse(_message.Message):
    __slots__ = ("unread_count", "notification")
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    unread_count: int
    notification: Notification
    def __init__(self, unread_count: _Optional[int] = ..., notification: _Optional[_Union[Notification, _Mapping]] = ...) -> None: ...

class Preference(_message.Message):
    __slots__ = ("kind", "channel", "enabled")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    kind: str
    channel: NotificationChannel
    enabled: bool
    def __init__(self, kind: _Optional[str] = ..., channel: _Optional[_Union[NotificationChannel, str]] = ..., enabled: _Optional[bool] = ...) -> None: ...

class GetPreferencesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetPreferencesResponse(_message.Message):
    __slots__ = ("preferences", "digest")
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    preferences: _containers.RepeatedCompositeFieldContainer[Preference]
    digest: DigestFrequency
    def __init__(self, preferences: _Optional[_Iterable[_Union[Preference, _Mapping]]] = ..., digest: _Optional[_Union[DigestFrequency, str]] = ...) -> None: ...

class UpdatePreferencesRequest(_message.Message):
    __slots__ = ("preferences", "digest")
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    preferences: _containers.RepeatedCompositeFieldContainer[Preference]
    digest: DigestFrequency
    def __init__(self, preferences: _Optional[_Iterable[_Union[Preference, _Mapping]]] = ..., digest: _Optional[_Union[DigestFrequency, str]] = ...) -> None: ...

class UpdatePreferencesResponse(_message.Message):
    __slots__ = ("preferences", "digest")
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    preferences: _containers.RepeatedCompositeFieldContainer[Preference]
    digest: DigestFrequency
    def __init__(self, preferences: _Optional[_Iterable[_Union[Preference, _Mapping]]] = ..., digest: _Optional[_Union[DigestFrequency, str]] = ...) -> None: ...

class UnsubscribeRequest(_message.Message):
    __slots__ = ("token", "validate_only")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    token: str
    validate_only: bool
    def __init__(self, token: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class UnsubscribeResponse(_message.Message):
    __slots__ = ("kind", "channel")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    channel: NotificationChannel
    def __init__(self, kind: _Optional[str] = ..., channel: _Optional[_Union[NotificationChannel, str]] = ...) -> None: ...
