"""Every real response matches the app's own /openapi.json: each endpoint, each status a client can provoke,
validated with jsonschema against the schema the spec documents for that path, method and status."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from nlp_service.analyzer import Analyzer
from nlp_service.serve import create_app

ARTICLE = "Kenya held a general election on Tuesday. Parliament will meet next week."
SUMMARY = "Kenya held an election."


@pytest.fixture(scope="module")
def client():
    from conftest import FakeClassifier, FakeSummarizer

    with TestClient(create_app(Analyzer(FakeClassifier(), FakeSummarizer()), max_items=3)) as c:
        deadline = time.monotonic() + 30  # a busy machine takes seconds to warm even the fakes up
        while c.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        yield c


@pytest.fixture(scope="module")
def spec(client) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def check(spec: dict[str, Any], method: str, path: str, response) -> None:
    """The response's body validates against the schema the spec gives for (path, method, status)."""
    documented = spec["paths"][path][method.lower()]["responses"]
    assert str(response.status_code) in documented, (path, response.status_code, "status not documented")
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    root = {**schema, "components": spec.get("components", {})}  # "#/components/..." refs resolve here
    errors = sorted(Draft202012Validator(root).iter_errors(response.json()), key=str)
    assert not errors, (path, response.status_code, response.json(), [e.message for e in errors][:3])


SINGLE = {"id": "a", "text": ARTICLE}
LIST = {"articles": [{"id": "a", "text": ARTICLE}, {"id": "b", "text": "  "}]}
CASES = [
    # (path, body, expected status)
    *[(p, SINGLE, 200) for p in ("/v1/analyze", "/v1/classify", "/v1/summarize")],
    *[(p, LIST, 200) for p in ("/v1/analyze", "/v1/classify", "/v1/summarize")],
    ("/v1/verify", {**SINGLE, "summary": SUMMARY}, 200),
    ("/v1/verify", {"articles": [{"text": ARTICLE, "summary": SUMMARY}, {"text": " ", "summary": "x"}]}, 200),
    *[(p, {"txt": "x"}, 422) for p in ("/v1/analyze", "/v1/classify", "/v1/summarize", "/v1/verify")],
    ("/v1/analyze", {"text": "   "}, 422),
    ("/v1/verify", {"text": ARTICLE}, 422),
    ("/v1/verify", {"text": " ", "summary": "x"}, 422),
    *[(p, {**SINGLE, "thresholds": {"politcs": 0.3}}, 422) for p in ("/v1/analyze", "/v1/classify")],
    ("/v1/classify", {"articles": [{"text": "a"}] * 4}, 413),
    ("/v1/verify", {"articles": [{"text": "a", "summary": "b"}] * 4}, 413),
    ("/v1/analyze", {"text": "x" * 1_100_000}, 413),
    ("/v1/analyze", {"text": "This BOOM breaks the fake classifier."}, 500),
]


@pytest.mark.parametrize(("path", "body", "status"), CASES)
def test_real_responses_match_the_spec(client, spec, path, body, status):
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    check(spec, "POST", path, response)


@pytest.mark.parametrize("path", ["/v1/analyze", "/v1/verify"])
def test_bodies_that_cannot_be_decoded_match_the_spec(client, spec, path):
    for content in (b"\xff\xfe not utf-8", b"{not json", b"[" * 50_000 + b"]" * 50_000):
        response = client.post(path, content=content, headers={"content-type": "application/json"})
        assert response.status_code in (400, 422), response.text
        check(spec, "POST", path, response)


def test_health_and_readiness_match_the_spec(client, spec):
    check(spec, "GET", "/healthz", client.get("/healthz"))
    check(spec, "GET", "/readyz", client.get("/readyz"))


def test_a_failed_load_readiness_matches_the_spec(spec):
    def broken():
        raise OSError("no weights")

    from conftest import FakeSummarizer

    with TestClient(create_app(Analyzer(broken, FakeSummarizer()))) as c:
        deadline = time.monotonic() + 30
        while "failed" not in (response := c.get("/readyz")).json().get("reason", "") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert response.status_code == 503
        check(spec, "GET", "/readyz", response)
        loading = c.post("/v1/analyze", json=SINGLE)
        assert loading.status_code == 503
        check(spec, "POST", "/v1/analyze", loading)


def test_the_documented_422_of_verify_is_the_real_one(client, spec):
    """FastAPI's default 422 schema ({"detail": [objects]}) is replaced by the one the service sends."""
    schema = spec["paths"]["/v1/verify"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert schema["properties"]["detail"] == {"type": "string"} and "errors" in schema["properties"]
    real = client.post("/v1/verify", json={"text": ARTICLE}).json()
    assert set(real) == {"detail", "errors"} and real["errors"][0].keys() == {"loc", "msg"}
    json.dumps(spec)  # the spec itself is plain JSON
