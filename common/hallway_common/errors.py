"""Domain errors that map to gRPC status codes (and from there to HTTP problems).

Service code raises these; the gRPC bootstrap turns them into the status they name,
so no handler hand-writes ``context.abort`` and the mapping exists once.
"""

from __future__ import annotations

import grpc


class HallwayError(Exception):
    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(HallwayError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(HallwayError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(HallwayError):
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(HallwayError):
    code = grpc.StatusCode.PERMISSION_DENIED


class FailedPrecondition(HallwayError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Unauthenticated(HallwayError):
    code = grpc.StatusCode.UNAUTHENTICATED
