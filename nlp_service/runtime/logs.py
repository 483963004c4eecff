"""How the command line logs: quiet by default (only the service's own warnings and any error), everything with
``--verbose``; ``serve`` writes one JSON object per line for every logger, its own, uvicorn's and the access log.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings

OWN = "nlp_service"
ACCESS = "nlp_service.access"
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class OwnOrSevere(logging.Filter):
    """Without --verbose, a library's warnings (onnxruntime's quantiser advice, a tokenizer note) are not the user's
    to act on: only this service's records and errors pass."""

    def __init__(self, also: tuple[str, ...] = ()):
        super().__init__()
        self.names = (OWN, *also)

    def filter(self, record: logging.LogRecord) -> bool:
        ours = any(record.name == n or record.name.startswith(n + ".") for n in self.names)
        return ours or record.levelno >= logging.ERROR


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message (and exc). Access-log messages are already one."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == ACCESS:
            return record.getMessage()
        out = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
               "message": record.getMessage()}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure(verbose: bool) -> None:
    """stderr logging for the batch-style commands; Python warnings from libraries only with ``verbose``."""
    root = logging.getLogger()
    before = set(root.handlers)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        for handler in set(root.handlers) - before:  # ours only: an embedding application's stay as they are
            handler.addFilter(OwnOrSevere())
        warnings.simplefilter("ignore")  # FutureWarning / DeprecationWarning / UserWarning of the model libraries


def configure_serve(verbose: bool) -> logging.Handler:
    """Every logger of ``serve`` into one JSON-lines handler on stderr; returns it (uvicorn gets no config)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    if not verbose:
        handler.addFilter(OwnOrSevere(also=("uvicorn",)))  # a server's start, stop and errors belong in its log
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in UVICORN:  # uvicorn's own startup and error lines, in the same format
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger(ACCESS)
    access.handlers.clear()
    access.propagate = True
    return handler
