"""What the service answers with, and how ``/openapi.json`` documents it: the response class every endpoint uses,
the error body, and the documented answers of the article endpoints and ``/readyz``."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fastapi.responses import JSONResponse


class SafeJSONResponse(JSONResponse):
    """JSON that can always be sent: a lone surrogate from the request (valid in JSON text, not in UTF-8)
    would make the default renderer raise, turning a client's odd input into a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """One documented answer: a description and its JSON body's schema."""
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


def error_responses(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """Documented error answers, {status: why}, each with the one error body."""
    return {code: json_content(ERROR_SCHEMA, text) for code, text in described.items()}


READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: json_content(
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
    503: json_content(
        {
            "type": "object",
            "required": ["ready", "reason"],
            "properties": {"ready": {"const": False}, "reason": {"type": "string"}},
            "additionalProperties": False,
        },
        "the models are loading, or failed to load",
    ),
}
ARTICLE_ERRORS = {
    400: "the body cannot be decoded",
    413: "body too large, too many articles, or a single article's text too long",
    422: "invalid request (a threshold name the checkpoint does not report among them), or a single article "
         "without usable text",
    500: "an internal error (the cause is in the server log)",
    503: "models still loading, or the queue is full (see Retry-After)",
    504: "the request waited longer than the server's timeout",
}


def article_responses(record: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """The documented answers of an article endpoint: one record, or ``{"results": [...]}`` for a list (one of
    the two, never both: a record has no ``results`` field), and the error bodies."""
    results = {
        "type": "object",
        "required": ["results"],
        "properties": {"results": {"type": "array", "items": record}},
        "additionalProperties": False,
    }
    out: dict[int | str, dict[str, Any]] = {
        200: json_content({"oneOf": [record, results]}, "one record, or {'results': [records]} for a list")
    }
    out.update(error_responses(ARTICLE_ERRORS))
    return out


PREPARE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: json_content(
        {
            "type": "object",
            "required": ["text", "warnings"],
            "properties": {"text": {"type": "string"}, "warnings": {"type": "array", "items": {"type": "string"}}},
            "additionalProperties": False,
        },
        "the cleaned text the models read, and the cleaning's warnings",
    ),
    **error_responses({code: ARTICLE_ERRORS[code] for code in (400, 413, 422, 500)}),
}


# A batch job as GET /v1/jobs/{id} (and the 202 of POST /v1/jobs) describes it (``Job.summary``).
JOB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "filename", "format", "tasks", "status", "message", "total", "done", "failed", "errors",
                 "created", "finished"],
    "properties": {
        "id": {"type": "string"},
        "filename": {"type": "string"},
        "format": {"enum": ["jsonl", "csv"]},
        "tasks": {"type": "array", "items": {"type": "string"}},
        "status": {"enum": ["queued", "running", "done", "failed", "cancelled"]},
        "message": {"type": ["string", "null"]},  # why a job failed
        "total": {"type": "integer", "minimum": 0},
        "done": {"type": "integer", "minimum": 0},
        "failed": {"type": "integer", "minimum": 0},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["row", "id", "error"],
                "properties": {"row": {"type": "string"}, "id": {"type": "string"}, "error": {"type": "string"}},
            },
        },
        "created": {"type": "number"},
        "finished": {"type": ["number", "null"]},
    },
    "additionalProperties": False,
}
NO_SUCH_JOB = "no such job (finished more than a day ago, cancelled, or the server restarted since)"


def data_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``nlp_service/data`` as an OpenAPI document embeds it."""
    schema = json.loads(resources.files("nlp_service.data").joinpath(name).read_text("utf-8"))
    # OpenAPI 3.1 takes JSON Schema 2020-12 as is; only the document-level keys are out of place inside it.
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
