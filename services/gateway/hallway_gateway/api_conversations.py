"""REST API: comments and reactions under posts, and followed #topics.

The feed service decides who may read a post; for a post the caller may not read,
every endpoint here answers 404 exactly as for a post that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from hallway.feed.v1 import conversation_pb2 as vpb
from hallway_gateway import convert, models
from hallway_gateway.api import Cursor, Limit, PeopleLimit, post_page, problem_responses
from hallway_gateway.deps import Caller, Services, WriteLimited, known_id

router = APIRouter(prefix="/api/v1", responses=problem_responses())
Kind = Annotated[
    models.ReactionKind, Path(description="like, celebrate, insightful, support or funny")
]
Tag = Annotated[str, Path(max_length=65, description="The topic, with or without '#', any case.")]


@router.get(
    "/posts/{post_id}/comments",
    tags=["conversations"],
    response_model=models.Page[models.Comment],
    responses=problem_responses(400, 404),
)
async def list_comments(
    post_id: str, caller: Caller, backends: Services, cursor: Cursor = "", limit: PeopleLimit = 50
) -> models.Page[models.Comment]:
    """A post's top-level comments, oldest first, each followed by its replies
    (`parent_id` set; at most 100 per comment). `limit` counts top-level comments."""
    resp = await backends.conversations.ListComments(
        vpb.ListCommentsRequest(
            post_id=known_id(post_id, "post"), page_size=limit, page_token=cursor
        )
    )
    return models.Page(
        items=await convert.comments(backends, resp.comments),
        next_cursor=convert.next_cursor(resp.next_page_token),
    )


@router.post(
    "/posts/{post_id}/comments",
    tags=["conversations"],
    status_code=201,
    response_model=models.Comment,
    responses=problem_responses(400, 404, 413, 429),
    dependencies=[WriteLimited],
)
async def create_comment(
    post_id: str, body: models.CommentCreate, caller: Caller, backends: Services
) -> models.Comment:
    """Comment on a post, or reply to one of its comments (`parent_id`; a reply to a
    reply joins that thread). @handles become mentions."""
    parent = known_id(body.parent_id, "comment") if body.parent_id else ""
    resp = await backends.conversations.CreateComment(
        vpb.CreateCommentRequest(
            post_id=known_id(post_id, "post"), text=body.text, parent_id=parent
        )
    )
    return (await convert.comments(backends, [resp.comment]))[0]


@router.patch(
    "/comments/{comment_id}",
    tags=["conversations"],
    response_model=models.Comment,
    responses=problem_responses(400, 403, 404, 413, 429),
    dependencies=[WriteLimited],
)
async def update_comment(
    comment_id: str, body: models.CommentUpdate, caller: Caller, backends: Services
) -> models.Comment:
    """Edit your comment (403 for someone else's). It then shows `edited_at`; the
    earlier text is kept for moderators."""
    resp = await backends.conversations.UpdateComment(
        vpb.UpdateCommentRequest(comment_id=known_id(comment_id, "comment"), text=body.text)
    )
    return (await convert.comments(backends, [resp.comment]))[0]


@router.delete(
    "/comments/{comment_id}",
    tags=["conversations"],
    status_code=204,
    responses=problem_responses(403, 404, 429),
    dependencies=[WriteLimited],
)
async def delete_comment(comment_id: str, caller: Caller, backends: Services) -> Response:
    """Delete a comment: yours, or any in a community you own or administer. A
    top-level comment takes its replies with it."""
    await backends.conversations.DeleteComment(
        vpb.DeleteCommentRequest(comment_id=known_id(comment_id, "comment"))
    )
    return Response(status_code=204)


@router.get(
    "/comments/{comment_id}/history",
    tags=["conversations"],
    response_model=models.CommentHistory,
    responses=problem_responses(403, 404),
)
async def comment_history(
    comment_id: str, caller: Caller, backends: Services
) -> models.CommentHistory:
    """A comment's earlier texts, for moderators (the `admin` role) and its author."""
    resp = await backends.conversations.GetCommentHistory(
        vpb.GetCommentHistoryRequest(comment_id=known_id(comment_id, "comment"))
    )
    (shown,) = await convert.comments(backends, [resp.comment])
    return models.CommentHistory(
        comment=shown,
        edits=[
            models.CommentEdit(
                version=e.version,
                text=e.text,
                written_at=convert.ts(e.written_at, e.HasField("written_at")),
            )
            for e in resp.edits
        ],
    )


@router.put(
    "/posts/{post_id}/reactions/{kind}",
    tags=["conversations"],
    response_model=models.ReactionSummary,
    responses=problem_responses(404, 429),
    dependencies=[WriteLimited],
)
async def add_reaction(
    post_id: str, kind: Kind, caller: Caller, backends: Services
) -> models.ReactionSummary:
    """React to a post. Reacting twice is not an error."""
    resp = await backends.conversations.AddReaction(
        vpb.AddReactionRequest(post_id=known_id(post_id, "post"), kind=kind)
    )
    return convert.reaction_summary(resp.summary)


@router.delete(
    "/posts/{post_id}/reactions/{kind}",
    tags=["conversations"],
    response_model=models.ReactionSummary,
    responses=problem_responses(404, 429),
    dependencies=[WriteLimited],
)
async def remove_reaction(
    post_id: str, kind: Kind, caller: Caller, backends: Services
) -> models.ReactionSummary:
    """Take your reaction back. Taking it back twice is not an error."""
    resp = await backends.conversations.RemoveReaction(
        vpb.RemoveReactionRequest(post_id=known_id(post_id, "post"), kind=kind)
    )
    return convert.reaction_summary(resp.summary)


@router.get(
    "/posts/{post_id}/reactions",
    tags=["conversations"],
    response_model=models.Page[models.Reactor],
    responses=problem_responses(400, 404),
)
async def list_reactions(
    post_id: str,
    caller: Caller,
    backends: Services,
    kind: Annotated[models.ReactionKind | None, Query(description="Only this kind.")] = None,
    cursor: Cursor = "",
    limit: PeopleLimit = 50,
) -> models.Page[models.Reactor]:
    """Who reacted, newest first."""
    resp = await backends.conversations.ListReactions(
        vpb.ListReactionsRequest(
            post_id=known_id(post_id, "post"), kind=kind or "", page_size=limit, page_token=cursor
        )
    )
    return models.Page(
        items=await convert.reactors(backends, resp.reactions),
        next_cursor=convert.next_cursor(resp.next_page_token),
    )


@router.get(
    "/topics/{tag}",
    tags=["topics"],
    response_model=models.Topic,
    responses=problem_responses(400),
)
async def get_topic(tag: Tag, caller: Caller, backends: Services) -> models.Topic:
    """A #topic: its follower count and whether you follow it."""
    resp = await backends.topics.GetTopic(vpb.GetTopicRequest(tag=tag))
    return models.Topic(tag=resp.tag, follower_count=resp.follower_count, following=resp.following)


@router.get(
    "/topics/{tag}/posts",
    tags=["topics"],
    response_model=models.Page[models.Post],
    responses=problem_responses(400),
)
async def topic_posts(
    tag: Tag, caller: Caller, backends: Services, cursor: Cursor = "", limit: Limit = 20
) -> models.Page[models.Post]:
    """Posts under a #topic that you may read, newest first."""
    resp = await backends.topics.ListTopicPosts(
        vpb.ListTopicPostsRequest(tag=tag, page_size=limit, page_token=cursor)
    )
    return await post_page(backends, resp)


async def _follow(backends: Services, tag: str, on: bool) -> models.Topic:
    if on:
        await backends.topics.FollowTopic(vpb.FollowTopicRequest(tag=tag))
    else:
        await backends.topics.UnfollowTopic(vpb.UnfollowTopicRequest(tag=tag))
    return await get_topic(tag, None, backends)  # type: ignore[arg-type]


@router.post(
    "/topics/{tag}/follow",
    tags=["topics"],
    response_model=models.Topic,
    responses=problem_responses(400, 429),
    dependencies=[WriteLimited],
)
async def follow_topic(tag: Tag, caller: Caller, backends: Services) -> models.Topic:
    """Follow a #topic: its posts join your home timeline. Following twice is fine."""
    return await _follow(backends, tag, True)


@router.delete(
    "/topics/{tag}/follow",
    tags=["topics"],
    response_model=models.Topic,
    responses=problem_responses(400, 429),
    dependencies=[WriteLimited],
)
async def unfollow_topic(tag: Tag, caller: Caller, backends: Services) -> models.Topic:
    """Stop following a #topic."""
    return await _follow(backends, tag, False)
