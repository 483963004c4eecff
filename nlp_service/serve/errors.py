"""The service's answers to requests that fail: a request that does not validate (422, with a readable message
per error and no echo of the input) and an unhandled error (500; the traceback goes to the log only)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from nlp_service.serve.responses import SafeJSONResponse

log = logging.getLogger(__name__)


def readable(error: dict[str, Any]) -> dict[str, str]:
    """A pydantic error as {"loc": "articles.1.text", "msg": "..."}: no 'body.' prefix, no echo of input."""
    loc = [str(p) for p in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return {"loc": "", "msg": f"the request body is not valid JSON{at}: {reason}".rstrip(": ")}
    if loc and loc[0] == "body":
        loc = loc[1:]
    return {"loc": ".".join(loc), "msg": str(error.get("msg", "")).removeprefix("Value error, ")}


async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [readable(e) for e in exc.errors()]
    detail = "; ".join(f"{e['loc']}: {e['msg']}" if e["loc"] else e["msg"] for e in errors)
    return SafeJSONResponse({"detail": detail, "errors": errors}, status_code=422)


async def internal(_: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return SafeJSONResponse({"detail": "internal error"}, status_code=500)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, internal)
