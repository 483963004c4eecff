"""The HTTP service under client mistakes and load: 4xx (never 500) for odd input on a connection that stays
open, 503 + Retry-After past the queue, 504 past the timeout, /healthz answered while the model is busy,
concurrent requests batched into one model call, one JSON access-log line per request (fake components)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from test_server import ARTICLE, LiveServer, wait_ready

from nlp_service import cli
from nlp_service.analyzer import Analyzer
from nlp_service.serve import BatcherConfig, ServerConfig, create_app


class GatedClassifier:
    """Wraps a classifier: each call waits until ``gate`` is set (the test decides when the model 'finishes')."""

    def __init__(self, inner, gate: threading.Event):
        self.inner, self.gate, self.version = inner, gate, inner.version
        self.started = threading.Event()

    def classify(self, texts, thresholds=None, top_k=None, explain=False):
        self.started.set()
        self.gate.wait(20)
        return self.inner.classify(texts, thresholds, top_k, explain)


@pytest.fixture
def live():
    servers: list[LiveServer] = []

    def start(app) -> str:
        server = LiveServer(app).__enter__()
        servers.append(server)
        with httpx.Client(base_url=server.url) as c:
            assert wait_ready(c).status_code == 200
        return server.url

    yield start
    for server in servers:
        server.__exit__()


def raw_exchange(url: str, requests: list[bytes]) -> list[tuple[int, dict[str, str], bytes]]:
    """Send ``requests`` one after another on ONE keep-alive TCP connection; return each response."""
    host, port = url.removeprefix("http://").split(":")
    out = []
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        stream = sock.makefile("rb")
        for body in requests:
            head = (
                f"POST /v1/analyze HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            sock.sendall(head + body)
            status = int(stream.readline().split()[1])
            headers = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            out.append((status, headers, stream.read(int(headers.get("content-length", 0)))))
    return out


GOOD = json.dumps({"id": "ok", "text": ARTICLE}).encode()


@pytest.mark.parametrize(
    "body, status",
    [
        (b'{"id": "\\udc00", "text": "Kenya \\ud800 voted."}', 200),  # lone surrogates: valid JSON, odd Unicode
        (b'{"text": "caf\xe9 in Kenya"}', 400),  # not UTF-8
        (b'{"text": ["a list"]}', 422),
        (b'{"id": {"nested": 1}, "text": "Kenya."}', 422),
        (b'{"\\udc00": 1, "text": "Kenya."}', 422),  # an unknown field whose name cannot be UTF-8
        (b"[" * 50_000 + b"]" * 50_000, 400),  # nested too deep for the JSON parser
        (b'"just a string"', 422),
        (b"null", 422),
        (b'{"text": "\\u200b\\u200b"}', 422),  # nothing left after cleaning
        (b'{"articles": [{"text": "Kenya."}, {"text": 5}]}', 422),
    ],
)
def test_client_mistakes_get_4xx_and_the_connection_stays_open(live, fake_analyzer, body, status):
    url = live(create_app(fake_analyzer))
    (first_status, _, first_body), (next_status, _, next_body) = raw_exchange(url, [body, GOOD])
    assert first_status == status, first_body
    json.loads(first_body)  # the error is JSON too
    assert next_status == 200 and json.loads(next_body)["id"] == "ok"
    if status == 200:
        record = json.loads(first_body)
        assert record["id"] == "\\udc00" and "error" not in record  # the lone surrogate escaped, not replaced


def test_past_the_queue_limit_requests_get_503_with_retry_after(live, fake_classifier, fake_summarizer):
    gate = threading.Event()
    clf = GatedClassifier(fake_classifier, gate)
    config = ServerConfig(batching=BatcherConfig(max_batch=1, queue_limit=2))
    app = create_app(Analyzer(clf, fake_summarizer), config=config)
    url = live(app)
    with httpx.Client(base_url=url, timeout=30) as c, ThreadPoolExecutor(8) as pool:
        first = pool.submit(c.post, "/v1/classify", json={"text": ARTICLE})
        assert clf.started.wait(10)  # the worker is busy with the first request
        queued = [pool.submit(c.post, "/v1/classify", json={"text": ARTICLE}) for _ in range(2)]
        deadline = time.monotonic() + 10
        while app.state.batcher.queued < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        refused = c.post("/v1/classify", json={"text": ARTICLE})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.json()["detail"] == "the server is busy; retry shortly"
        assert c.get("/healthz").status_code == 200  # answered while the model is busy and the queue full
        gate.set()
        assert [f.result().status_code for f in [first, *queued]] == [200, 200, 200]


def test_a_request_waiting_past_the_timeout_gets_504(live, fake_classifier, fake_summarizer):
    gate = threading.Event()
    clf = GatedClassifier(fake_classifier, gate)
    url = live(create_app(Analyzer(clf, fake_summarizer), config=ServerConfig(request_timeout_s=0.2)))
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            response = c.post("/v1/classify", json={"text": ARTICLE})
            assert response.status_code == 504 and "no answer within 0.2 s" in response.json()["detail"]
    finally:
        gate.set()


def test_requests_that_arrive_together_share_one_model_call(live, fake_classifier, fake_summarizer):
    gate = threading.Event()
    clf = GatedClassifier(fake_classifier, gate)
    app = create_app(Analyzer(clf, fake_summarizer))
    url = live(app)
    with httpx.Client(base_url=url, timeout=30) as c, ThreadPoolExecutor(8) as pool:
        first = pool.submit(c.post, "/v1/classify", json={"id": "first", "text": ARTICLE})
        assert clf.started.wait(10)
        rest = [pool.submit(c.post, "/v1/classify", json={"id": f"r{i}", "text": ARTICLE}) for i in range(6)]
        deadline = time.monotonic() + 10
        while app.state.batcher.queued < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.set()
        answers = [f.result() for f in [first, *rest]]
    assert [a.json()["id"] for a in answers] == ["first"] + [f"r{i}" for i in range(6)]
    assert [len(call) for call in fake_classifier.calls] == [1, 6]  # the six waiting requests: one call


def test_each_request_is_one_json_access_log_line(live, fake_analyzer, caplog):
    url = live(create_app(fake_analyzer))
    with caplog.at_level(logging.INFO, logger="nlp_service.access"), httpx.Client(base_url=url) as c:
        c.post("/v1/classify", json={"text": ARTICLE})
        c.post("/v1/classify", json={"txt": "typo"})
        c.get("/healthz")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "nlp_service.access"]
    got = [(x["method"], x["path"], x["status"]) for x in lines[-3:]]
    assert got == [("POST", "/v1/classify", 200), ("POST", "/v1/classify", 422), ("GET", "/healthz", 200)]
    assert {"ts", "ms", "client", "queued"} <= lines[-1].keys()


def test_serve_with_an_impossible_port_is_one_clear_error(capsys, monkeypatch, fake_analyzer):
    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: fake_analyzer)
    assert cli.main(["serve", "--port", "99999"]) == 2
    assert "a port is a number from 0 to 65535, got 99999" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in err and "Traceback" not in err


def test_verification_requests_share_the_queue_and_its_limit(live, fake_classifier, fake_summarizer):
    """/v1/verify waits on the same model thread and queue as the analysis endpoints: past the limit it gets 503
    too, and verification requests that wait together are answered by one call."""
    gate = threading.Event()
    clf = GatedClassifier(fake_classifier, gate)
    analyzer = Analyzer(clf, fake_summarizer)
    calls: list[int] = []
    verify = analyzer.verify_prepared

    def counted(articles, summaries, ids):
        calls.append(len(articles))
        return verify(articles, summaries, ids)

    analyzer.verify_prepared = counted  # type: ignore[method-assign]
    config = ServerConfig(batching=BatcherConfig(max_batch=8, queue_limit=3))
    app = create_app(analyzer, config=config)
    url = live(app)
    pair = {"text": ARTICLE, "summary": "Eastmere opened a new ferry terminal."}
    with httpx.Client(base_url=url, timeout=30) as c, ThreadPoolExecutor(8) as pool:
        busy = pool.submit(c.post, "/v1/classify", json={"text": ARTICLE})
        assert clf.started.wait(10)  # the model thread is busy
        waiting = [pool.submit(c.post, "/v1/verify", json={"id": f"v{i}", **pair}) for i in range(3)]
        deadline = time.monotonic() + 10
        while app.state.batcher.queued < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        refused = c.post("/v1/verify", json=pair)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        gate.set()
        answers = [f.result() for f in waiting]
        assert busy.result().status_code == 200
    assert [a.json()["id"] for a in answers] == ["v0", "v1", "v2"]
    assert all(a.json()["faithful"] is True for a in answers)
    assert calls == [3]  # the three waiting verifications: one call
