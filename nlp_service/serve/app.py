"""HTTP service: ``create_app(analyzer)`` builds the FastAPI app; ``nlp-service serve`` runs it with uvicorn.

Endpoints: POST /v1/analyze, /v1/classify, /v1/summarize (one article, or ``{"articles": [...]}``),
POST /v1/verify (article + ``summary``, or ``{"articles": [{..., "summary": ...}]}``; verify.schema.json),
POST /v1/prepare (the text as the models read it: the offsets of mentions refer to it), GET /healthz (the process
answers), GET /readyz (200 once the models are loaded, else 503). Records are ``Analysis.to_dict()``, the schema
in ``nlp_service/data/record.schema.json``.

``nlp_service.serve.web`` adds the pages for people who do not write code (``/`` analyse, ``/batch``, ``/model``), the
batch-job endpoints they use (``/v1/jobs``, through the same queue), ``/v1/models``, and the OpenAPI docs at
``/docs`` and ``/redoc`` with their assets served by the service itself.

Errors: 400 for a body that cannot be decoded, 413 for a body over ``max_body_bytes``, more than ``max_items``
articles or a single article longer than ``text.MAX_CHARS`` characters (in a list, that article's record has
``error`` and the others their results), 422 for a request that does not validate (or a single article with no
usable text), 503 while the models load or when the queue is full (with ``Retry-After``), 504 when a request
waited longer than ``request_timeout_s``, 500 with a generic message for anything else (the traceback goes to
the server log, never to the client).

Model calls run on one worker thread behind a bounded queue (``nlp_service.serve.microbatch``): concurrent requests
are batched into one model call, and the event loop, which answers /healthz and /readyz itself, never waits
for a model. Each request is logged as one JSON line on the ``nlp_service.access`` logger.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from nlp_service import __version__
from nlp_service.analyzer import DEFAULT_CHECKPOINTS, TASKS, AnalyzeOptions, Analyzer
from nlp_service.batch import NO_TEXT, escape_id, row_text
from nlp_service.serve import web
from nlp_service.serve.microbatch import BatcherConfig, MicroBatcher, QueueFull
from nlp_service.serve.web.jobs import JobLimits
from nlp_service.text.clean import TOO_LONG, InputError, prepare

log = logging.getLogger(__name__)
access_log = logging.getLogger("nlp_service.access")


@dataclass(frozen=True)
class ServerConfig:
    max_body_bytes: int = 2_000_000
    max_items: int = 256  # articles per request
    request_timeout_s: float = 30.0  # queue wait + model call; past it, 504 and the rest is not computed
    retry_after_s: int = 1  # what a 503 for a full queue tells the client to wait
    batching: BatcherConfig = field(default_factory=BatcherConfig)
    jobs: JobLimits = field(default_factory=JobLimits)  # the batch page's uploads
    checkpoints: Path | None = None  # what the model page describes; None: the shipped checkpoints/
    # Per connection (``nlp-service serve``; see ``uvicorn_config``). A request (headers and body) must arrive
    # within read_timeout_s, else 408 and the connection is closed: 2 MB at 150 kB/s takes 13 s. An idle
    # keep-alive connection is closed after keep_alive_s. Past max_connections open connections, uvicorn answers
    # 503: with the body limit, at most max_connections × max_body_bytes (512 MB) of request bodies in memory.
    read_timeout_s: float = 15.0
    keep_alive_s: int = 5
    max_connections: int = 256


def uvicorn_config(app: Any, config: ServerConfig, **options: Any) -> Any:
    """The uvicorn settings that carry ``config``'s per-connection limits (``options``: uvicorn's others)."""
    import uvicorn

    from nlp_service.serve.http_limits import read_timeout_protocol

    return uvicorn.Config(
        app,
        http=read_timeout_protocol(config.read_timeout_s),
        timeout_keep_alive=config.keep_alive_s,
        limit_concurrency=config.max_connections,
        **options,
    )


class SafeJSONResponse(JSONResponse):
    """JSON that can always be sent: a lone surrogate from the request (valid in JSON text, not in UTF-8)
    would make the default renderer raise, turning a client's odd input into a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")

Task = Literal["classify", "summarize", "entities"]


# -- request models ----------------------------------------------------------------------------------------
class Article(BaseModel):
    """One article: ``text``, or ``title`` and/or ``body`` (joined with a newline)."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr | StrictInt | None = Field(None, description="echoed in the record")
    text: StrictStr | None = None
    title: StrictStr | None = None
    body: StrictStr | None = None

    @model_validator(mode="after")
    def _has_text(self) -> Article:
        if self.text is None and self.title is None and self.body is None:
            raise ValueError(NO_TEXT)
        return self

    def full_text(self) -> str:
        return row_text({"text": self.text, "title": self.title, "body": self.body})

    def record_id(self) -> str | None:
        return None if self.id is None else escape_id(str(self.id))


class _Input(BaseModel):
    """Either one article's fields at the top level, or ``articles``: a list of articles."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr | StrictInt | None = None
    text: StrictStr | None = None
    title: StrictStr | None = None
    body: StrictStr | None = None
    articles: list[Article] | None = Field(None, min_length=1, description="several articles in one request")

    @model_validator(mode="after")
    def _one_or_many(self) -> _Input:
        single = any(v is not None for v in (self.id, self.text, self.title, self.body))
        if self.articles is not None and single:
            raise ValueError("give one article (text or title+body) or a list in 'articles', not both")
        if self.articles is None and self.text is None and self.title is None and self.body is None:
            raise ValueError(NO_TEXT)
        return self

    def items(self) -> list[Article]:
        if self.articles is not None:
            return self.articles
        return [Article(id=self.id, text=self.text, title=self.title, body=self.body)]


Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class ClassifyRequest(_Input):
    top_k: int | None = Field(None, ge=1, description="at most this many labels per list")
    thresholds: dict[str, Probability] | None = Field(
        None, description="label name (or themes, regions, countries) → the probability it is reported from; "
                          "overrides the tuned thresholds", examples=[{"themes": 0.4, "politics": 0.7}],
    )
    explain: bool = Field(False, description="each reported theme carries its evidence: sentence and terms")


class SummarizeRequest(_Input):
    max_words: int = Field(45, ge=5, le=400, description="summary length cap in words")
    method: Literal["extractive", "abstractive"] | None = Field(
        None, description="summariser method; default: the checkpoint's measured best"
    )


class VerifyArticle(Article):
    summary: StrictStr = Field(description="the summary to check against the article")


class VerifyRequest(_Input):
    summary: StrictStr | None = Field(None, description="the summary to check (one article at the top level)")
    articles: list[VerifyArticle] | None = Field(None, min_length=1, description="several (article, summary)")

    @model_validator(mode="after")
    def _has_summary(self) -> VerifyRequest:
        if self.articles is None and self.summary is None:
            raise ValueError("give the 'summary' to check")
        if self.articles is not None and self.summary is not None:
            raise ValueError("with 'articles', each article carries its own 'summary'")
        return self

    def pairs(self) -> list[tuple[str | None, str, str]]:
        """(id, article text, summary) per item."""
        if self.articles is not None:
            return [(a.record_id(), a.full_text(), a.summary) for a in self.articles]
        item = self.items()[0]
        return [(item.record_id(), item.full_text(), self.summary or "")]


class AnalyzeRequest(ClassifyRequest, SummarizeRequest):
    tasks: list[Task] = Field(list(TASKS), min_length=1, description="which analyses to run")


# -- model loading -----------------------------------------------------------------------------------------
class _Models:
    """Holds the Analyzer and loads its components in a background thread, so /healthz answers at once."""

    def __init__(self, analyzer: Analyzer | None):
        self.analyzer = analyzer
        self.failed: str | None = None
        self._thread: threading.Thread | None = None

    def start_loading(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._load, name="nlp-service-model-load", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        try:
            if self.analyzer is None:
                self.analyzer = Analyzer.load()
            self.analyzer.warm_up()
            log.info("models loaded: %s", self.analyzer.versions)
        except Exception as exc:
            # One line naming the file and the fix (the checkpoint errors say both); the traceback only with
            # debug logging. /readyz stays 503, so no load balancer sends this process a request.
            log.error("loading the models failed; the service will not become ready: %s", exc or type(exc).__name__,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            self.failed = f"{type(exc).__name__}"

    @property
    def ready(self) -> bool:
        return self.analyzer is not None and self.analyzer.ready

    def get_analyzer(self) -> Analyzer:
        assert self.analyzer is not None
        return self.analyzer

    def get(self) -> Analyzer:
        if self.ready:
            assert self.analyzer is not None
            return self.analyzer
        if self.failed:
            raise HTTPException(503, "the models failed to load; see the server log")
        raise HTTPException(503, "the models are still loading; retry shortly", headers={"Retry-After": "5"})


# -- request size limit ------------------------------------------------------------------------------------
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any
]


class BodyLimit:
    """Refuses bodies over ``max_bytes`` with 413: by Content-Length before reading, and by counting the bytes
    actually received (a chunked body has no Content-Length)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._drain(receive, more=True)
            await self._too_large(send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._drain(receive, more=message.get("more_body", False))
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _drain(self, receive: Any, more: bool) -> None:
        """Read (and drop) what the client is still sending, up to a bound: answering while it is mid-upload
        makes many clients see a connection reset instead of the 413."""
        budget = 4 * self.max_bytes + 1_000_000
        while more and budget > 0:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            budget -= len(message.get("body", b""))
            more = message.get("more_body", False)

    async def _too_large(self, send: Any) -> None:
        payload = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


# -- health fast path --------------------------------------------------------------------------------------
class HealthFastPath:
    """Answers ``GET /healthz`` before routing, validation and the body limit: the liveness probe costs the
    event loop a few microseconds however many requests are in flight."""

    BODY = b'{"status":"ok"}'

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/healthz" and scope["method"] in ("GET", "HEAD"):
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.BODY)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": self.BODY if scope["method"] == "GET" else b""})
            return
        await self.app(scope, receive, send)


# -- access log --------------------------------------------------------------------------------------------
class AccessLog:
    """One JSON line per request on the ``nlp_service.access`` logger: method, path, status, milliseconds,
    client, and the queue depth the request found (uvicorn's own access log is turned off by ``serve``)."""

    def __init__(self, app: ASGIApp, queue_depth: Callable[[], int]):
        self.app, self.queue_depth = app, queue_depth

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status, depth = time.perf_counter(), 0, self.queue_depth()

        async def send_and_watch(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client") or ("", 0)
                access_log.info(
                    json.dumps(
                        {
                            "ts": round(time.time(), 3),
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status or 500,
                            "ms": round((time.perf_counter() - started) * 1000, 1),
                            "client": f"{client[0]}:{client[1]}",
                            "queued": depth,
                        }
                    )
                )


# -- app ---------------------------------------------------------------------------------------------------
def create_app(
    analyzer: Analyzer | None = None,
    max_body_bytes: int | None = None,
    max_items: int | None = None,
    config: ServerConfig | None = None,
) -> FastAPI:
    """The app. Its models load in a background thread at startup; ``analyzer=None`` means the shipped
    checkpoints (``uvicorn --factory nlp_service.serve.app:create_app`` works too). ``max_body_bytes`` and
    ``max_items`` override the fields of ``config``."""
    config = config or ServerConfig()
    overrides = {k: v for k, v in (("max_body_bytes", max_body_bytes), ("max_items", max_items)) if v is not None}
    config = replace(config, **overrides)
    max_items = config.max_items
    models = _Models(analyzer)
    batcher = MicroBatcher(models.get_analyzer, config.batching)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        models.start_loading()
        batcher.start()
        yield
        await jobs.close()
        await asyncio.to_thread(batcher.stop)

    app = FastAPI(
        title="nlp-service",
        version=__version__,
        description="Countries, UN M49 regions and IPTC themes of news articles, and faithful summaries.",
        lifespan=lifespan,
        default_response_class=SafeJSONResponse,
        # /docs and /redoc are served by nlp_service.serve.web with local assets (FastAPI's load from a CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.batcher = batcher
    responses = _responses(_schema("record.schema.json"))
    verify_responses = _responses(_schema("verify.schema.json"))

    def deadline() -> float:
        """When a request submitted now stops being worth computing: nobody waits for it after the timeout."""
        return time.monotonic() + config.request_timeout_s

    def check_count(count: int) -> None:
        if count > max_items:
            raise HTTPException(413, f"at most {max_items} articles per request, got {count}")

    async def answer(
        request: _Input, waiting: Awaitable[list[Any]], count: int, cancel: Callable[[], object] = lambda: None
    ) -> JSONResponse:
        """Wait for the records within the server's timeout; one article's record, or ``{"results": [...]}``."""
        try:
            records = await asyncio.wait_for(waiting, config.request_timeout_s)
        except TimeoutError:  # the wait ran out, or the batcher dropped the request at its deadline
            cancel()  # its parts not yet computed never will be
            raise HTTPException(504, f"no answer within {config.request_timeout_s:g} s; retry later") from None
        except asyncio.CancelledError:  # the client went away: drop the work not yet begun
            cancel()
            raise
        except Exception:
            log.exception("answering %d article(s) failed", count)
            raise HTTPException(500, "internal error") from None
        if request.articles is None:
            if records[0].error:
                raise HTTPException(413 if TOO_LONG in records[0].error else 422, records[0].error)
            return SafeJSONResponse(records[0].to_dict())
        return SafeJSONResponse({"results": [r.to_dict() for r in records]})

    async def queue(request: _Input, count: int, submit: Callable[[], Any]) -> JSONResponse:
        """Queue ``count`` articles on the batcher (``submit``): 503 while loading or past the queue limit."""
        check_count(count)
        models.get()  # 503 while loading
        try:
            future = submit()
        except QueueFull:
            raise HTTPException(
                503, "the server is busy; retry shortly", headers={"Retry-After": str(config.retry_after_s)}
            ) from None
        return await answer(request, asyncio.wrap_future(future), count, lambda: batcher.abandon(future))

    async def run(request: _Input, options: AnalyzeOptions) -> JSONResponse:
        items = request.items()
        texts = [a.full_text() for a in items]
        ids = [a.record_id() for a in items]
        return await queue(request, len(items), lambda: batcher.submit(texts, ids, options, deadline()))

    # Async endpoints: the event loop only validates and waits; the model calls run on the batcher's thread.
    @app.post("/v1/analyze", responses=responses, summary="Classify and summarise")
    async def analyze(request: AnalyzeRequest) -> JSONResponse:
        return await run(
            request,
            AnalyzeOptions(
                tuple(request.tasks), request.thresholds, request.top_k, request.max_words, request.method,
                request.explain,
            ),
        )

    @app.post("/v1/classify", responses=responses, summary="Countries, regions and themes")
    async def classify(request: ClassifyRequest) -> JSONResponse:
        return await run(request, AnalyzeOptions(("classify",), thresholds=request.thresholds, top_k=request.top_k,
                                                 explain=request.explain))

    @app.post("/v1/summarize", responses=responses, summary="Summary")
    async def summarize(request: SummarizeRequest) -> JSONResponse:
        return await run(
            request, AnalyzeOptions(("summarize",), max_words=request.max_words, method=request.method)
        )

    @app.post(
        "/v1/verify",
        responses=verify_responses,
        summary="Is the summary supported by the article? (verify.schema.json)",
    )
    async def verify(request: VerifyRequest) -> JSONResponse:
        pairs = request.pairs()
        return await queue(request, len(pairs), lambda: batcher.submit_verify(
            [p[1] for p in pairs], [p[2] for p in pairs], [p[0] for p in pairs], deadline()))

    @app.post("/v1/prepare", summary="The text as the models read it (mention offsets refer to it)")
    async def prepare_text(request: Article) -> JSONResponse:
        """Cleaning only (HTML to text, invisible characters, whitespace, the language check): no model runs,
        so it answers while the models load. The web page shows this text with the mentions marked."""
        try:
            text, warnings = await asyncio.to_thread(prepare, request.full_text())
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        return SafeJSONResponse({"text": text, "warnings": warnings})

    # Answered on the event loop itself, never queued behind model work.
    @app.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="200 once the models are loaded, 503 before", responses=READY_RESPONSES)
    async def readyz() -> JSONResponse:
        if models.ready:
            assert models.analyzer is not None
            return JSONResponse({"ready": True, "model": models.analyzer.versions})
        reason = (
            "the models failed to load; see the server log" if models.failed else "the models are loading"
        )
        return JSONResponse({"ready": False, "reason": reason}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_readable(e) for e in exc.errors()]
        detail = "; ".join(f"{e['loc']}: {e['msg']}" if e["loc"] else e["msg"] for e in errors)
        return SafeJSONResponse({"detail": detail, "errors": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return SafeJSONResponse({"detail": "internal error"}, status_code=500)

    checkpoints = config.checkpoints or DEFAULT_CHECKPOINTS
    jobs = web.install(
        app,
        models,
        batcher,
        max_body_bytes=config.max_body_bytes,
        checkpoints=checkpoints,
        docs_folder=DEFAULT_CHECKPOINTS.parent / "docs",
        job_limits=config.jobs,
    )
    app.state.jobs = jobs

    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(HealthFastPath)
    app.add_middleware(AccessLog, queue_depth=lambda: batcher.queued)  # the last added is the outermost
    return app


def _readable(error: dict[str, Any]) -> dict[str, str]:
    """A pydantic error as {"loc": "articles.1.text", "msg": "..."}: no 'body.' prefix, no echo of input."""
    loc = [str(p) for p in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return {"loc": "", "msg": f"the request body is not valid JSON{at}: {reason}".rstrip(": ")}
    if loc and loc[0] == "body":
        loc = loc[1:]
    return {"loc": ".".join(loc), "msg": str(error.get("msg", "")).removeprefix("Value error, ")}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# What every 4xx / 5xx body is: ``detail`` says why; a request that does not validate also lists ``errors``.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {"loc": {"type": "string"}, "msg": {"type": "string"}},
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}
READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _json(
        {
            "type": "object",
            "required": ["ready", "model"],
            "properties": {
                "ready": {"const": True},
                "model": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "additionalProperties": False,
        },
        "the models are loaded",
    ),
    503: _json(
        {
            "type": "object",
            "required": ["ready", "reason"],
            "properties": {"ready": {"const": False}, "reason": {"type": "string"}},
            "additionalProperties": False,
        },
        "the models are loading, or failed to load",
    ),
}


def _responses(record: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """The documented answers of an article endpoint: one record, or ``{"results": [...]}`` for a list (one of
    the two, never both: a record has no ``results`` field), and the error bodies."""
    results = {
        "type": "object",
        "required": ["results"],
        "properties": {"results": {"type": "array", "items": record}},
        "additionalProperties": False,
    }
    errors = {
        400: "the body cannot be decoded",
        413: "body too large, too many articles, or a single article's text too long",
        422: "invalid request, or a single article without usable text",
        500: "an internal error (the cause is in the server log)",
        503: "models still loading, or the queue is full (see Retry-After)",
        504: "the request waited longer than the server's timeout",
    }
    out: dict[int | str, dict[str, Any]] = {
        200: _json({"oneOf": [record, results]}, "one record, or {'results': [records]} for a list")
    }
    out.update({code: _json(ERROR_SCHEMA, text) for code, text in errors.items()})
    return out


def _schema(name: str) -> dict[str, Any]:
    schema = json.loads(resources.files("nlp_service.data").joinpath(name).read_text("utf-8"))
    # OpenAPI 3.1 takes JSON Schema 2020-12 as is; only the document-level keys are out of place inside it.
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
