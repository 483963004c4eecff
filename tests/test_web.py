"""The web pages' server side, without a browser: pages and assets from the package, the offline API docs,
/v1/prepare, /v1/models and the batch jobs (tests/test_web_browser.py drives the pages in Chromium)."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nlp_service.analyzer import TASKS, AnalyzeOptions
from nlp_service.serve import BatcherConfig, JobLimits, QueueFull, ServerConfig, create_app
from nlp_service.serve.jobs import records_csv
from nlp_service.serve.web import STATIC
from nlp_service.serve.web.model_info import quality_snapshot
from tests.web_fakes import evidence_analyzer, loading_analyzer

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "Kenya held a general election on Tuesday.\n\nVoters in  Nairobi queued for hours. A match was delayed."
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


@contextmanager
def ready_client(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        deadline = time.monotonic() + 20
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the fake models did not load"
            time.sleep(0.02)
        yield client


@pytest.fixture
def client() -> Iterator[TestClient]:
    config = ServerConfig(max_body_bytes=200_000, jobs=JobLimits(max_rows=20, chunk=3, busy_wait_s=0.02))
    with ready_client(create_app(evidence_analyzer(), config=config)) as c:
        yield c


def wait_job(client: TestClient, job_id: str, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


# -- pages and assets --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/batch", "/model"])
def test_pages_load_only_same_origin_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page = response.text
    assert not EXTERNAL.search(page), "a page names an asset on another host"
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        assert client.get(asset).status_code == 200, asset


def test_batch_page_states_the_limits(client):
    page = client.get("/batch").text
    assert "Limit: 20 articles and 200 kB per file." in page
    assert 'data-max-bytes="200000"' in page and "{{" not in page


def test_static_files_name_no_other_host():
    for path in [*STATIC.glob("*.*"), *(STATIC.parent / "templates").glob("*.html")]:
        text = path.read_text("utf-8")
        urls = re.findall(r"https?://[^\s\"'<>)]+", text)
        assert urls in ([], ["http://www.w3.org/2000/svg"]), (path.name, urls)


def test_docs_and_redoc_are_served_from_the_package(client):
    for path, assets in {
        "/docs": ["/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css"],
        "/redoc": ["/redoc/redoc.standalone.js"],
    }.items():
        page = client.get(path)
        assert page.status_code == 200
        assert not EXTERNAL.search(page.text), f"{path} loads from another host"
        assert "fonts.googleapis" not in page.text and "cdn" not in page.text.lower()
        for asset in assets:
            assert asset in page.text
            served = client.get(asset)
            assert served.status_code == 200 and len(served.content) > 100_000
    assert '"validatorUrl": null' in client.get("/docs").text
    served = client.get("/redoc/redoc.standalone.js").content
    assert b"https://cdn" not in served and len(served) > 1_000_000
    vendor = STATIC / "vendor"
    assert (vendor / "swagger-ui" / "LICENSE").is_file() and (vendor / "redoc" / "LICENSE").is_file()
    assert client.get("/favicon.ico").status_code == 200


def test_the_package_data_globs_ship_every_web_file():
    """setuptools installs only files the package-data globs match: a new asset must match one."""
    import fnmatch
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["nlp_service"]
    package = ROOT / "nlp_service"
    for path in (package / "serve" / "web").rglob("*"):
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts:
            relative = path.relative_to(package).as_posix()
            assert any(fnmatch.fnmatch(relative, g) and relative.count("/") == g.count("/") for g in globs), relative


def test_docs_links_serve_the_repository_docs(client):
    assert client.get("/doc/usage").text.startswith("# Using nlp-service")
    assert client.get("/doc/web").status_code == 200
    assert client.get("/doc/..%2Fpyproject").status_code == 404
    assert client.get("/doc/nothing").status_code == 404


# -- the analyze page's requests ---------------------------------------------------------------------------
def test_prepare_gives_the_text_that_mention_offsets_refer_to(client):
    prepared = client.post("/v1/prepare", json={"text": ARTICLE}).json()
    record = client.post("/v1/analyze", json={"text": ARTICLE, "explain": True}).json()
    text = prepared["text"]
    assert text != ARTICLE  # whitespace was normalised: the raw offsets would be off
    mentions = [m for c in record["countries"] for m in c["evidence"]]
    assert {(m["surface"], m["kind"]) for m in mentions} == {("Kenya", "name"), ("Nairobi", "capital")}
    for m in mentions:
        assert text[m["start"] : m["end"]] == m["surface"]
    for theme in record["themes"]:
        assert theme["evidence"]["sentence"] in text


def test_prepare_answers_while_the_models_load_and_refuses_empty_text():
    gate = threading.Event()
    try:
        with TestClient(create_app(loading_analyzer(gate))) as client:
            assert client.get("/readyz").status_code == 503
            assert client.post("/v1/analyze", json={"text": ARTICLE}).status_code == 503
            assert client.post("/v1/prepare", json={"text": ARTICLE}).status_code == 200
            empty = client.post("/v1/prepare", json={"text": "\u200b\u200b"})
            assert empty.status_code == 422 and "empty text" in empty.json()["detail"]
            german = client.post("/v1/prepare", json={"text": GERMAN}).json()
            assert any("not English" in w for w in german["warnings"])
            assert client.get("/v1/models").json()["loaded"] == {}
    finally:
        gate.set()


GERMAN = (
    "Die Regierung in Berlin hat am Dienstag neue Regeln für die Energieversorgung beschlossen. Die Opposition "
    "kritisierte den Plan scharf und forderte mehr Geld für die Gemeinden."
)


# -- batch jobs --------------------------------------------------------------------------------------------
def test_a_csv_job_runs_and_its_records_download_as_jsonl_and_csv(client):
    rows = [["id", "text"], ["a", "Kenya held an election."], ["b", ""], ["c", "France won the match."]]
    rows += [[f"n{i}", f"Japan story {i}. A bank opened."] for i in range(5)]
    body = io.StringIO()
    csv.writer(body).writerows(rows)
    started = client.post(
        "/v1/jobs?filename=news.csv", content=body.getvalue().encode(), headers={"content-type": "text/csv"}
    )
    assert started.status_code == 202
    job = wait_job(client, started.json()["id"])
    assert job["status"] == "done" and job["total"] == 8 and job["done"] == 8 and job["failed"] == 1
    assert job["errors"] == [{"row": "row 2", "id": "b", "error": "row 2: row has no text (expected 'text' or "
                              "'title'+'body')"}]
    jsonl = client.get(f"/v1/jobs/{job['id']}/records.jsonl")
    assert jsonl.status_code == 200
    assert 'filename="news.analysed.jsonl"' in jsonl.headers["content-disposition"]
    records = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [r["id"] for r in records] == ["a", "b", "c"] + [f"n{i}" for i in range(5)]
    assert records[0]["countries"][0]["code"] == "KE" and "summary" in records[0]
    table = client.get(f"/v1/jobs/{job['id']}/records.csv")
    assert table.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert parsed[0]["countries"] == "Kenya (KE) 0.90" and parsed[0]["themes"] == "politics 0.90"
    assert parsed[1]["error"].startswith("row 2:") and parsed[2]["faithful"] == "yes"


def test_jobs_go_through_the_service_queue_a_chunk_at_a_time(client):
    lines = "".join(json.dumps({"id": i, "text": f"Chile story {i}."}) + "\n" for i in range(10))
    job_id = client.post("/v1/jobs?filename=x.jsonl", content=lines.encode()).json()["id"]
    assert wait_job(client, job_id)["done"] == 10
    batcher = client.app.state.batcher
    assert batcher.stats.articles >= 10 and batcher.stats.largest <= 3  # chunk=3: never the whole file at once


def test_job_upload_errors_are_clear(client):
    too_many = "".join(json.dumps({"text": f"story {i}"}) + "\n" for i in range(21))
    refused = client.post("/v1/jobs?filename=x.jsonl", content=too_many.encode())
    assert refused.status_code == 413 and "more than 20 rows" in refused.json()["detail"]
    no_text = client.post("/v1/jobs?filename=x.csv", content=b"id,headline\n1,Kenya\n")
    assert no_text.status_code == 422 and "no 'text'" in no_text.json()["detail"]
    unknown = client.post("/v1/jobs?filename=x.xlsx", content=b"PK")
    assert unknown.status_code == 422 and ".jsonl or .csv" in unknown.json()["detail"]
    bad_tasks = client.post("/v1/jobs?filename=x.jsonl&tasks=translate", content=b'{"text": "a"}\n')
    assert bad_tasks.status_code == 422
    too_big = client.post("/v1/jobs?filename=x.jsonl", content=b'{"text": "' + b"a" * 200_001 + b'"}\n')
    assert too_big.status_code == 413
    assert client.get("/v1/jobs/0123abcd").status_code == 404


def test_bad_rows_become_error_records_named_like_the_batch_script(client):
    lines = b'{"id": 1, "text": "Kenya votes."}\nnot json\n{"id": 1, "text": "again"}\n["a list"]\n'
    job = wait_job(client, client.post("/v1/jobs?filename=x.jsonl", content=lines).json()["id"])
    errors = {e["row"]: e["error"] for e in job["errors"]}
    assert errors["line 2"].startswith("line 2: not valid JSON")
    assert errors["line 3"].startswith("line 3: duplicate id (the same as line 1")
    assert errors["line 4"] == "line 4: not a JSON object"


def test_a_running_job_waits_for_the_models_and_can_be_cancelled():
    gate = threading.Event()
    try:
        with TestClient(create_app(loading_analyzer(gate))) as client:
            job_id = client.post("/v1/jobs?filename=x.jsonl", content=b'{"text": "Kenya votes."}\n').json()["id"]
            time.sleep(0.3)
            job = client.get(f"/v1/jobs/{job_id}").json()
            assert job["status"] == "running" and job["done"] == 0  # waiting for the models, not failing
            assert client.get(f"/v1/jobs/{job_id}/records.jsonl").status_code == 409
            assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
            assert client.get(f"/v1/jobs/{job_id}").status_code == 404
    finally:
        gate.set()


def test_jobs_wait_while_the_queue_is_full():
    """A full queue makes a job wait and queue its chunk again (as a client told Retry-After would), never fail
    its rows: the job shares the queue, and its limit, with the API's requests."""
    config = ServerConfig(
        batching=BatcherConfig(queue_limit=4, max_batch=4, max_wait_s=0.0), jobs=JobLimits(chunk=2, busy_wait_s=0.01)
    )
    with ready_client(create_app(evidence_analyzer(delay=0.005), config=config)) as client:
        batcher = client.app.state.batcher
        submit, refused = batcher.submit, []

        def counting(texts, ids, options):
            try:
                return submit(texts, ids, options)
            except QueueFull:
                if options.tasks == TASKS:  # the job's chunks; the filler below only classifies
                    refused.append(len(texts))
                raise

        batcher.submit = counting
        stop = threading.Event()

        def fill() -> None:  # other clients keeping the queue at its limit
            while not stop.is_set():
                try:
                    submit(["Kenya story."] * 4, [None] * 4, AnalyzeOptions(("classify",)))
                except QueueFull:
                    time.sleep(0.001)

        filler = threading.Thread(target=fill, daemon=True)
        filler.start()
        try:
            lines = "".join(json.dumps({"text": f"Norway story {i}."}) + "\n" for i in range(6)).encode()
            job_id = client.post("/v1/jobs?filename=x.jsonl", content=lines).json()["id"]
            time.sleep(0.3)
        finally:
            stop.set()
            filler.join()
        job = wait_job(client, job_id)
        assert job["status"] == "done" and job["failed"] == 0 and job["done"] == 6
        assert refused, "the job never met a full queue"


def test_csv_cells_never_start_a_formula():
    table = records_csv([{"id": "=1+1", "summary": "-5 degrees", "countries": [], "warnings": ["@x"]}])
    row = next(csv.DictReader(io.StringIO(table.lstrip("\ufeff"))))
    assert row["id"] == "'=1+1" and row["summary"] == "'-5 degrees" and row["warnings"] == "'@x"


# -- model page --------------------------------------------------------------------------------------------
def test_models_describe_the_shipped_checkpoints(client):
    info = client.get("/v1/models").json()
    assert info["loaded"] == {"classifier": "fake-classifier-evidence-1", "summarizer": "fake-summarizer-1"}
    shipped = json.loads((ROOT / "checkpoints" / "classifier" / "config.json").read_text())
    assert info["classifier"]["version"] == shipped["version"]
    assert info["classifier"]["rules"] and info["summarizer"]["version"] and info["checker"]["version"]
    assert {d["name"] for d in info["docs"]} >= {"classifier", "annotation", "web"}


def test_the_quality_snapshot_has_every_theme_beside_baseline_and_agreement():
    quality = quality_snapshot()
    assert quality is not None
    themes = [row["theme"] for row in quality["per_theme"]]
    assert len(themes) == 17 and len(set(themes)) == 17
    for row in quality["per_theme"]:
        for series in ("classifier", "baseline", "agreement"):
            assert 0.0 <= row[series] <= 1.0, (row["theme"], series)
    assert set(quality["series"]) >= {"classifier", "baseline", "agreement"}
