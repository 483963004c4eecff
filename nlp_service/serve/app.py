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

Where each part lives: the article endpoints in ``routes_analyze.py`` (bodies in ``request_models.py``), /healthz
and /readyz in ``routes_health.py``, the documented answers in ``responses.py``, the 422 and 500 handlers in
``errors.py``, the ASGI layers (access log, /healthz fast path, body limit) in ``middleware.py``, the limits in
``config.py``, and what the endpoints share (``ServiceState`` on ``app.state.service``) in ``state.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from fastapi import FastAPI

from nlp_service import __version__
from nlp_service.analyzer import DEFAULT_CHECKPOINTS, Analyzer
from nlp_service.serve import routes_analyze, routes_health, web
from nlp_service.serve.config import ServerConfig
from nlp_service.serve.errors import add_error_handlers
from nlp_service.serve.jobs import JobStore
from nlp_service.serve.microbatch import MicroBatcher
from nlp_service.serve.middleware import AccessLog, BodyLimit, HealthFastPath
from nlp_service.serve.responses import SafeJSONResponse
from nlp_service.serve.state import ModelLoader, ServiceState


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
    models = ModelLoader(analyzer)
    batcher = MicroBatcher(models.get_analyzer, config.batching)
    jobs = JobStore(batcher, lambda: models.ready, lambda: models.failed, config.jobs)

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
    app.state.service = ServiceState(
        config,
        models,
        batcher,
        jobs,
        checkpoints=config.checkpoints or DEFAULT_CHECKPOINTS,
        docs_folder=DEFAULT_CHECKPOINTS.parent / "docs",
    )
    app.state.batcher, app.state.jobs = batcher, jobs
    app.include_router(routes_analyze.router)
    app.include_router(routes_health.router)
    web.install(app, config.jobs)
    add_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(HealthFastPath)
    app.add_middleware(AccessLog, queue_depth=lambda: batcher.queued)  # the last added is the outermost
    return app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start loading the models and the model thread; at shutdown stop the running jobs, then the thread."""
    service: ServiceState = app.state.service
    service.models.start_loading()
    service.batcher.start()
    yield
    await service.jobs.close()
    await asyncio.to_thread(service.batcher.stop)
