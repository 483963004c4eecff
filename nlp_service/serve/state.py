"""What the endpoints share: the models (loaded in a background thread), the micro-batcher, the job store and
the server's limits, held in one ``ServiceState`` on ``app.state.service``."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request

from nlp_service.analyzer import Analyzer
from nlp_service.serve.config import ServerConfig
from nlp_service.serve.jobs import JobStore
from nlp_service.serve.microbatch import MicroBatcher

log = logging.getLogger(__name__)


class ModelLoader:
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
        """The loaded Analyzer; 503 while the models load or after they failed to."""
        if self.ready:
            assert self.analyzer is not None
            return self.analyzer
        if self.failed:
            raise HTTPException(503, "the models failed to load; see the server log")
        raise HTTPException(503, "the models are still loading; retry shortly", headers={"Retry-After": "5"})


@dataclass(frozen=True)
class ServiceState:
    config: ServerConfig
    models: ModelLoader
    batcher: MicroBatcher
    jobs: JobStore
    checkpoints: Path  # what the model page describes
    docs_folder: Path | None  # the source checkout's docs/, served read-only at /doc/NAME

    def deadline(self) -> float:
        """When a request submitted now stops being worth computing: nobody waits for it after the timeout."""
        return time.monotonic() + self.config.request_timeout_s


async def service_state(request: Request) -> ServiceState:
    """The endpoints' dependency on the app's shared state (async: FastAPI runs it on the event loop, not in
    its thread pool)."""
    return request.app.state.service
