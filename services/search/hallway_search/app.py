"""The search service process: indexes people, posts, communities and comments from Kafka,
answers gRPC queries."""

from __future__ import annotations

from hallway.search.v1 import search_pb2, search_pb2_grpc
from hallway_common import catalogue
from hallway_common.contracts import COMMENT, COMMUNITY, PERSON, POST
from hallway_common.runtime import Runtime, run
from hallway_search import rebuild
from hallway_search.grpc_api import SearchServicer
from hallway_search.indexing import Indexer
from hallway_search.indices import IndexNames, SearchSettings, create_client, migrate, prepare
from hallway_search.searching import Searcher

SERVICE_NAME = search_pb2.DESCRIPTOR.services_by_name["SearchService"].full_name
CONSUMER_GROUP = "hallway-search"
# gRPC and metrics ports: the service catalogue's (docs/deploy.md#ports-consumer-groups-and-topics)
DEFAULTS = catalogue.service("search").defaults()

__all__ = ["SearchSettings", "build", "main"]


async def build(rt: Runtime[SearchSettings]) -> None:
    client = create_client(rt.settings)
    rt.on_close(client.close)
    # Same function as `migrate`: a fresh cluster or a test run works in any order.
    await prepare(client, rt.settings)
    names = IndexNames(rt.settings.opensearch_index_prefix)

    indexer = Indexer(client, names)
    # OpenSearch down or overloaded (connection errors, 429/502/503/504, also wrapped in
    # OpenSearchBusy) is classified by hallway_common.failures: retried, never dead-lettered.
    consumer = rt.consumer(CONSUMER_GROUP)
    # People, indexed for directory search.
    consumer.on(PERSON, indexer.on_person)
    # Posts, indexed for full-text search; deletes and withdrawals tombstoned.
    consumer.on(POST, indexer.on_post)
    # Public and private communities (discoverable); removed when made secret.
    consumer.on(COMMUNITY, indexer.on_community)
    # Comments on public posts; they go with their post.
    consumer.on(COMMENT, indexer.on_comment)

    rt.grpc.add(
        search_pb2_grpc.add_SearchServiceServicer_to_server,
        SearchServicer(Searcher(client, names)),
        SERVICE_NAME,
    )


def main(argv: list[str] | None = None) -> None:
    run(
        "search",
        SearchSettings,
        build,
        defaults=DEFAULTS,
        extra_migrate=migrate,
        commands={"rebuild": rebuild.COMMAND},
        argv=argv,
    )
