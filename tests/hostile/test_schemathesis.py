"""Schemathesis against the running gateway's OpenAPI document: 0 server errors.

Every operation gets up to ``EXAMPLES`` generated requests, half valid for the schema
(they reach the services: profile's, feed's and search's text rules, cursors, ids)
and half deliberately invalid (they must stop at the gateway with a 4xx), as a
provisioned administrator, so provisioning and editing are exercised too. Responses
must not be 5xx and must match the documented status codes, content types and schemas.
The SSE stream never ends by design and is covered by the authorization matrix.
"""

from __future__ import annotations

from functools import cache

import httpx
import pytest
import schemathesis
from hostile_support import mint, provision
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hallway_common import testing
from hallway_common.testing import System
from hallway_gateway.app import create_app
from hallway_gateway.settings import GatewaySettings

pytestmark = pytest.mark.e2e

EXAMPLES = 40
SKIP = {("GET", "/api/v1/notifications/stream")}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@cache
def _operations() -> list[tuple[str, str]]:
    """The operations of the document the gateway serves (the same code, in-process)."""
    app = create_app(GatewaySettings(identity_private_key_file="unused", dev_mode=True))
    spec = app.openapi()
    ops = [(m.upper(), p) for p, items in spec["paths"].items() for m in items]
    return [op for op in ops if op not in SKIP]


@pytest.fixture(scope="session")
def api_schema(base_url: str) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")


@pytest.fixture(scope="session")
async def fuzzer(system: System) -> dict[str, str]:
    """A provisioned administrator of its own, so fuzzing touches nobody else's data."""
    person = await provision(system, f"fuzz{testing.RUN_ID}")
    return {"Authorization": f"Bearer {mint(person.id, person.handle, roles=['admin'])}"}


def test_every_documented_operation_is_fuzzed(client: httpx.Client) -> None:
    served = client.get("/api/v1/openapi.json").json()["paths"]
    documented = {(m.upper(), p) for p, items in served.items() for m in items}
    assert documented - SKIP == set(_operations())


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: str(v))
def test_operation_never_fails_on_the_server(
    api_schema: schemathesis.schemas.BaseSchema,
    fuzzer: dict[str, str],
    base_url: str,
    method: str,
    path: str,
) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples every run: a failure reproduces
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=fuzzer, checks=CHECKS, timeout=15)

    run()
