"""The article endpoints: POST /v1/analyze, /v1/classify, /v1/summarize, /v1/verify, and /v1/prepare.

Async endpoints: the event loop only validates and waits; the model calls run on the batcher's thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse

from nlp_service.analyzer import AnalyzeOptions
from nlp_service.serve.microbatch import QueueFull
from nlp_service.serve.request_models import (
    AnalyzeRequest,
    Article,
    ArticleInput,
    ClassifyRequest,
    SummarizeRequest,
    VerifyRequest,
)
from nlp_service.serve.responses import PREPARE_RESPONSES, SafeJSONResponse, article_responses, data_schema
from nlp_service.serve.state import ServiceState, service_state
from nlp_service.text.clean import TOO_LONG, InputError, prepare

log = logging.getLogger(__name__)

router = APIRouter()
State = Annotated[ServiceState, Depends(service_state)]
RECORD_RESPONSES = article_responses(data_schema("record.schema.json"))
VERIFY_RESPONSES = article_responses(data_schema("verify.schema.json"))


def check_count(state: ServiceState, count: int) -> None:
    if count > state.config.max_items:
        raise HTTPException(413, f"at most {state.config.max_items} articles per request, got {count}")


async def answer(
    state: ServiceState,
    request: ArticleInput,
    waiting: Awaitable[list[Any]],
    count: int,
    cancel: Callable[[], object] = lambda: None,
) -> JSONResponse:
    """Wait for the records within the server's timeout; one article's record, or ``{"results": [...]}``."""
    timeout = state.config.request_timeout_s
    try:
        records = await asyncio.wait_for(waiting, timeout)
    except TimeoutError:  # the wait ran out, or the batcher dropped the request at its deadline
        cancel()  # its parts not yet computed never will be
        raise HTTPException(504, f"no answer within {timeout:g} s; retry later") from None
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


async def queue(
    state: ServiceState, request: ArticleInput, count: int, submit: Callable[[], Future[Any]]
) -> JSONResponse:
    """Queue ``count`` articles on the batcher (``submit``): 503 while loading or past the queue limit."""
    check_count(state, count)
    state.models.get()  # 503 while loading
    try:
        future = submit()
    except QueueFull:
        raise HTTPException(
            503, "the server is busy; retry shortly", headers={"Retry-After": str(state.config.retry_after_s)}
        ) from None
    return await answer(state, request, asyncio.wrap_future(future), count, lambda: state.batcher.abandon(future))


async def run(state: ServiceState, request: ArticleInput, options: AnalyzeOptions) -> JSONResponse:
    if options.thresholds:
        try:
            # a misspelt label name would otherwise be passed over without a word; the names are the checkpoint's
            state.models.get().check_thresholds(options.thresholds)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    items = request.items()
    texts = [a.full_text() for a in items]
    ids = [a.record_id() for a in items]
    return await queue(state, request, len(items), lambda: state.batcher.submit(texts, ids, options, state.deadline()))


@router.post("/v1/analyze", responses=RECORD_RESPONSES, summary="Classify and summarise")
async def analyze(request: AnalyzeRequest, state: State) -> JSONResponse:
    return await run(state, request, request.options())


@router.post("/v1/classify", responses=RECORD_RESPONSES, summary="Countries, regions and themes")
async def classify(request: ClassifyRequest, state: State) -> JSONResponse:
    options = AnalyzeOptions(("classify",), thresholds=request.thresholds, top_k=request.top_k, explain=request.explain)
    return await run(state, request, options)


@router.post("/v1/summarize", responses=RECORD_RESPONSES, summary="Summary")
async def summarize(request: SummarizeRequest, state: State) -> JSONResponse:
    return await run(state, request, AnalyzeOptions(("summarize",), max_words=request.max_words, method=request.method))


@router.post(
    "/v1/verify",
    responses=VERIFY_RESPONSES,
    summary="Is the summary supported by the article? (verify.schema.json)",
)
async def verify(request: VerifyRequest, state: State) -> JSONResponse:
    pairs = request.pairs()
    ids, texts, summaries = [p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs]
    return await queue(
        state, request, len(pairs), lambda: state.batcher.submit_verify(texts, summaries, ids, state.deadline())
    )


@router.post(
    "/v1/prepare", responses=PREPARE_RESPONSES, summary="The text as the models read it (mention offsets refer to it)"
)
async def prepare_text(request: Article) -> JSONResponse:
    """Cleaning only (HTML to text, invisible characters, whitespace, the language check): no model runs,
    so it answers while the models load. The web page shows this text with the mentions marked."""
    try:
        text, warnings = await asyncio.to_thread(prepare, request.full_text())
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return SafeJSONResponse({"text": text, "warnings": warnings})
