"""Running searches: validate, build the body (``queries``), ask OpenSearch, cut the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opensearchpy import AsyncOpenSearch

from hallway_search import queries
from hallway_search.indices import IndexNames


@dataclass(frozen=True)
class Page:
    """One page of hits (OpenSearch ``hits.hits`` entries) and where the next one starts."""

    hits: list[dict[str, Any]]
    next_token: str
    total: int


class Searcher:
    """Read side of the search service; every query goes through the aliases."""

    def __init__(self, client: AsyncOpenSearch, names: IndexNames) -> None:
        self.client = client
        self.names = names

    async def search_posts(
        self,
        query: str,
        viewer_id: str,
        size: int,
        token: str,
        filters: queries.Filters | None = None,
    ) -> Page:
        """Posts matching ``query`` that the viewer may see, best match then newest first."""
        parsed = queries.parse_posts_query(query, filters)
        viewer = queries.check_viewer(viewer_id)
        size = queries.check_page_size(size)
        after = queries.decode_posts_token(parsed, token)
        body = queries.posts_query(parsed, viewer, size, after)
        return await self._page(
            self.names.posts, body, size, lambda sort: queries.posts_page_token(parsed, sort)
        )

    async def search_people(self, query: str, viewer_id: str, size: int, token: str) -> Page:
        """Active people whose handle, name, title or department match, best first."""
        text = queries.people_text(query)
        queries.check_viewer(viewer_id)
        size = queries.check_page_size(size)
        after = queries.decode_people_token(text, token)
        body = queries.people_query(text, size, after)
        return await self._page(
            self.names.people, body, size, lambda sort: queries.people_page_token(text, sort)
        )

    async def search_communities(self, query: str, visibility: str, size: int, token: str) -> Page:
        """Discoverable communities whose name or description match, best first."""
        parsed = queries.parse_communities_query(query, visibility)
        size = queries.check_page_size(size)
        after = queries.decode_communities_token(parsed, token)
        body = queries.communities_query(parsed, size, after)
        return await self._page(
            self.names.communities,
            body,
            size,
            lambda sort: queries.communities_page_token(parsed, sort),
        )

    async def search_comments(
        self, query: str, viewer_id: str, size: int, token: str, filters: queries.Filters
    ) -> Page:
        """Comments on public posts matching ``query``, best match then newest first."""
        parsed = queries.parse_comments_query(query, filters)
        viewer = queries.check_viewer(viewer_id)
        size = queries.check_page_size(size)
        after = queries.decode_comments_token(parsed, token)
        body = queries.comments_query(parsed, viewer, size, after)
        return await self._page(
            self.names.comments, body, size, lambda sort: queries.comments_page_token(parsed, sort)
        )

    async def _page(self, index: str, body: dict[str, Any], size: int, token_of: Any) -> Page:
        result = await self.client.search(index=index, body=body)
        hits = result["hits"]["hits"]
        more = len(hits) > size
        hits = hits[:size]
        next_token = token_of(hits[-1]["sort"]) if more and hits else ""
        return Page(hits=hits, next_token=next_token, total=int(result["hits"]["total"]["value"]))
