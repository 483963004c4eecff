"""The service's limits (``ServerConfig``) and the uvicorn settings that carry its per-connection ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp_service.serve.http_limits import read_timeout_protocol
from nlp_service.serve.jobs import JobLimits
from nlp_service.serve.microbatch import BatcherConfig


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
    import uvicorn  # lazy: only a server that runs needs uvicorn, not the app or its tests

    return uvicorn.Config(
        app,
        http=read_timeout_protocol(config.read_timeout_s),
        timeout_keep_alive=config.keep_alive_s,
        limit_concurrency=config.max_connections,
        **options,
    )
