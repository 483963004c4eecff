"""The HTTP service over a real socket: uvicorn on a free 127.0.0.1 port, talked to with httpx."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn

from nlp_service.analyzer import Analyzer
from nlp_service.serve import ServerConfig, create_app, uvicorn_config

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "Kenya held a general election on Tuesday. Parliament will meet next week."


class LiveServer:
    """uvicorn.Server in a thread, on a socket bound to port 0 (the OS picks a free port, with no race)."""

    def __init__(self, app: object, config: ServerConfig | None = None):
        """``config``: serve with the service's own uvicorn settings (limits, timeouts), as ``nlp-service serve``."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        settings = (uvicorn_config(app, config, log_level="warning") if config is not None
                    else uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.server = uvicorn.Server(settings)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()


def wait_ready(client: httpx.Client, seconds: float = 20) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.02)


@pytest.fixture
def serve() -> Iterator[Callable[..., httpx.Client]]:
    """serve(app) → an httpx client for that app running on a live loopback server; stopped after the test."""
    stack: list[tuple[LiveServer, httpx.Client]] = []

    def start(app: object) -> httpx.Client:
        live = LiveServer(app).__enter__()
        client = httpx.Client(base_url=live.url, timeout=30)
        stack.append((live, client))
        return client

    yield start
    for live, client in reversed(stack):
        client.close()
        live.__exit__()


@pytest.fixture
def client(serve, fake_analyzer) -> httpx.Client:
    c = serve(create_app(fake_analyzer, max_body_bytes=20_000, max_items=4))
    assert wait_ready(c).status_code == 200
    return c


# -- health and docs ---------------------------------------------------------------------------------------
def test_health_ready_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "ready": True,
        "model": {"classifier": "fake-classifier-1", "summarizer": "fake-summarizer-1"},
    }
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/analyze", "/v1/classify", "/v1/summarize", "/healthz", "/readyz"} <= paths.keys()


# -- answers -----------------------------------------------------------------------------------------------
def test_analyze_one_article(client):
    response = client.post("/v1/analyze", json={"id": "k1", "text": ARTICLE})
    assert response.status_code == 200
    record = response.json()
    assert record["id"] == "k1"
    assert [c["code"] for c in record["countries"]] == ["KE"]
    assert record["regions"][0] == {
        "name": "Eastern Africa",
        "continent": "Africa",
        "m49": "014",
        "score": 0.9,
    }
    assert record["themes"][0]["name"] == "politics"
    assert record["summary"] == "Kenya held a general election on Tuesday."
    assert record["model"] == {"classifier": "fake-classifier-1", "summarizer": "fake-summarizer-1"}


def test_analyze_a_list_keeps_order_and_reports_bad_rows_in_place(client):
    body = {
        "articles": [
            {"id": 1, "text": ARTICLE},
            {"id": "x", "text": "  "},
            {"title": "Japan", "body": "A match."},
        ]
    }
    response = client.post("/v1/analyze", json=body)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == ["1", "x", None]
    assert results[1]["error"] == "empty text" and "themes" not in results[1]
    assert results[2]["countries"][0]["code"] == "JP" and results[2]["themes"][0]["name"] == "sport"


def test_classify_and_summarize_endpoints_run_one_task_with_their_options(client):
    classified = client.post("/v1/classify", json={"text": "France and Kenya and Japan.", "top_k": 2}).json()
    assert len(classified["countries"]) == 2 and "summary" not in classified
    summary = client.post(
        "/v1/summarize", json={"text": ARTICLE, "max_words": 5, "method": "abstractive"}
    ).json()
    assert (
        summary["summary"] == "Kenya held a general election" and summary["summary_method"] == "abstractive"
    )
    assert "themes" not in summary and summary["model"]["summarizer"] == "fake-summarizer-1"
    only = client.post("/v1/analyze", json={"text": ARTICLE, "tasks": ["classify"]}).json()
    assert "themes" in only and "summary" not in only


def test_concurrent_requests_are_all_answered(client):
    with ThreadPoolExecutor(8) as pool:
        responses = list(
            pool.map(lambda i: client.post("/v1/analyze", json={"id": str(i), "text": ARTICLE}), range(16))
        )
    assert [r.status_code for r in responses] == [200] * 16
    assert sorted(int(r.json()["id"]) for r in responses) == list(range(16))


# -- errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, message",
    [
        ({"id": "a"}, "row has no text (expected 'text' or 'title'+'body')"),
        ({"text": 42}, "text: Input should be a valid string"),
        ({"text": "a", "articles": [{"text": "b"}]}, "not both"),
        ({"txt": "typo"}, "txt: Extra inputs are not permitted"),
        ({"articles": []}, "articles: List should have at least 1 item"),
        ({"articles": [{"text": "ok"}, {"body": 3}]}, "articles.1.body: Input should be a valid string"),
        ({"text": "a", "max_words": 2}, "max_words: Input should be greater than or equal to 5"),
        ({"text": "a", "tasks": ["translate"]}, "tasks.0: Input should be 'classify', 'summarize' or 'entities'"),
        ({"text": " \n "}, "empty text"),
    ],
)
def test_invalid_requests_get_422_with_a_readable_message(client, body, message):
    response = client.post("/v1/analyze", json=body)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_a_body_that_is_not_json_gets_422(client):
    response = client.post("/v1/analyze", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("the request body is not valid JSON at character 1")


def test_too_large_bodies_get_413_by_header_and_by_counting(client):
    big = {"text": "word " * 5_000}  # ~25 kB against a 20 kB limit
    response = client.post("/v1/analyze", json=big)
    assert response.status_code == 413 and "larger than 20000 bytes" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server has to count
        data = json.dumps(big).encode()
        for i in range(0, len(data), 4096):
            yield data[i : i + 4096]

    response = client.post("/v1/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_too_many_articles_get_413(client):
    response = client.post("/v1/classify", json={"articles": [{"text": "a"}] * 5})
    assert (
        response.status_code == 413 and response.json()["detail"] == "at most 4 articles per request, got 5"
    )


def test_an_internal_error_is_500_without_details(client, caplog):
    response = client.post("/v1/analyze", json={"text": "This BOOM breaks the fake classifier."})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "fake classifier failure" in caplog.text  # the server log has the cause


def test_not_ready_until_the_models_are_loaded(serve, fake_classifier, fake_summarizer):
    release = threading.Event()

    def slow_classifier():
        release.wait(20)
        return fake_classifier

    c = serve(create_app(Analyzer(classifier=slow_classifier, summarizer=fake_summarizer)))
    assert c.get("/healthz").status_code == 200
    assert c.get("/readyz").status_code == 503
    early = c.post("/v1/analyze", json={"text": ARTICLE})
    assert early.status_code == 503 and early.headers["retry-after"] == "5"
    release.set()
    assert wait_ready(c).status_code == 200
    assert c.post("/v1/analyze", json={"text": ARTICLE}).status_code == 200


def test_a_failed_load_keeps_readyz_at_503(serve, fake_summarizer, caplog):
    def broken():
        raise OSError("no weights")

    c = serve(create_app(Analyzer(classifier=broken, summarizer=fake_summarizer)))
    deadline = time.monotonic() + 10
    while "failed" not in c.get("/readyz").json()["reason"] and time.monotonic() < deadline:
        time.sleep(0.02)
    ready = c.get("/readyz")
    assert ready.status_code == 503 and "failed to load" in ready.json()["reason"]
    assert c.post("/v1/analyze", json={"text": ARTICLE}).status_code == 503
    failures = [r for r in caplog.records if r.name == "nlp_service.serve.state" and "loading the models" in r.message]
    assert [(r.getMessage(), r.exc_info) for r in failures] == [
        ("loading the models failed; the service will not become ready: no weights", False)  # no traceback
    ]


# -- the real thing ----------------------------------------------------------------------------------------
def wait_process_ready(client: httpx.Client, proc: subprocess.Popen, log_path: Path, limit_s: float = 600) -> None:
    """Poll /readyz of a served ``nlp-service serve`` until its models are loaded; fail with the server's log when
    the process ends, or when loading takes longer than ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while True:
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, log_path.read_text(errors="replace")
        assert time.monotonic() < deadline, f"the models did not load within {limit_s:g} s"
        time.sleep(0.5)


@pytest.mark.slow
def test_nlp_service_serve_with_the_real_models(checkpoints, examples_path, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    log_path = tmp_path / "server.log"  # a file, not a pipe: a full pipe would stall the server
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nlp_service.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as c:
            wait_process_ready(c, proc, log_path)
            article = json.loads(examples_path.read_text(encoding="utf-8").splitlines()[0])
            response = c.post("/v1/analyze", json={"id": article["id"], "text": article["text"]})
            assert response.status_code == 200
            record = response.json()
            assert record["id"] == "ex-01" and "themes" in record and record["summary"]
            assert set(record["model"]) == {"classifier", "summarizer"}
            assert c.post("/v1/analyze", json={"text": ""}).status_code == 422
    finally:
        proc.terminate()
        proc.wait(timeout=30)
