"""The web pages of ``nlp-service serve``, for people who do not write code, and the offline API docs.

- ``/``: paste an article, press Analyze; countries, regions and themes with their evidence marked in the text,
  the summary with the checker's verdict, and a box that checks a summary of your own (``static/analyze.js``).
- ``/batch``: upload a JSONL or CSV file; the job runs through the service's bounded queue (``jobs.py``), the
  page polls ``/v1/jobs/{id}`` and offers the records as JSONL and CSV (``static/batch.js``).
- ``/model``: the shipped models' versions and measured quality with a per-theme F1 chart (``model_info.py``,
  ``static/model.js``).
- ``/docs`` and ``/redoc``: Swagger UI and ReDoc from files vendored in ``static/vendor/`` (FastAPI's defaults
  load them from a CDN, which leaves the pages blank offline).

Every asset is a file of this package, served from the same origin; the pages send a Content-Security-Policy
that lets the browser load nothing from anywhere else.
"""

from __future__ import annotations

import asyncio
import functools
import html
import re
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from nlp_service.analyzer import TASKS
from nlp_service.serve.microbatch import MicroBatcher
from nlp_service.serve.web.jobs import JobError, JobLimits, JobStore, job_format, records_csv, records_jsonl
from nlp_service.serve.web.model_info import DOCS, model_info

STATIC = Path(__file__).resolve().parent / "static"
# The pages' own policy: scripts, styles, images and requests from this origin only.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI starts from an inline script and ReDoc runs its search in a blob: worker; neither loads from
# elsewhere.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; worker-src 'self' blob:; object-src 'none'"
)
_TOKEN = re.compile(r"\{\{(\w+)\}\}")
# ReDoc 2 draws the Redocly logo from its makers' CDN beside its "API docs by Redocly" link, whatever its options
# say; /redoc gets the vendored file with that one address replaced by an empty inline image (the file on disk
# stays as published, so its checksum can be compared with the npm package's).
REDOC_JS = STATIC / "vendor" / "redoc" / "redoc.standalone.js"
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
BLANK_IMAGE = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"


@functools.cache
def redoc_script() -> bytes:
    """The vendored ReDoc bundle as /redoc serves it: no address outside this origin."""
    return REDOC_JS.read_bytes().replace(REDOC_LOGO, BLANK_IMAGE)


class ModelState(Protocol):
    """What the pages need of the server's model holder (``nlp_service.serve.app._Models``)."""

    failed: str | None

    @property
    def ready(self) -> bool: ...

    def get(self) -> Any: ...


def _page(name: str, values: dict[str, str] | None = None) -> HTMLResponse:
    text = (STATIC / name).read_text("utf-8")
    values = values or {}
    text = _TOKEN.sub(lambda m: html.escape(values.get(m.group(1), m.group(0))), text)
    return HTMLResponse(text, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"})


def install(
    app: FastAPI,
    models: ModelState,
    batcher: MicroBatcher,
    *,
    max_body_bytes: int,
    checkpoints: Path,
    docs_folder: Path | None,
    job_limits: JobLimits | None = None,
) -> JobStore:
    """Add the pages, their assets, the docs and the job endpoints to ``app``; returns the job store (the
    server's lifespan closes it)."""
    jobs = JobStore(batcher, lambda: models.ready, lambda: models.failed, job_limits)
    limits = jobs.limits
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # -- pages ------------------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def analyze_page() -> HTMLResponse:
        return _page("index.html")

    @app.get("/batch", include_in_schema=False)
    async def batch_page() -> HTMLResponse:
        return _page(
            "batch.html",
            {
                "max_rows": f"{limits.max_rows:,}",
                "max_rows_raw": str(limits.max_rows),
                "max_bytes": str(max_body_bytes),
                "max_size": _size(max_body_bytes),
            },
        )

    @app.get("/model", include_in_schema=False)
    async def model_page() -> HTMLResponse:
        return _page("model.html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/doc/{name}", include_in_schema=False)
    async def doc(name: str) -> PlainTextResponse:
        # Only the documents the model page names, read from the source checkout (a wheel has no docs/).
        path = docs_folder / f"{name}.md" if docs_folder is not None and name in DOCS else None
        if path is None or not path.is_file():
            raise HTTPException(404, f"no document {name!r} here; the docs are in the repository's docs/ folder")
        return PlainTextResponse(path.read_text("utf-8"), media_type="text/plain; charset=utf-8")

    # -- offline API docs -------------------------------------------------------------------------------
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - API docs",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            # None: no badge that sends the spec to the public online validator.
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - API reference",
            redoc_js_url="/redoc/redoc.standalone.js",
            redoc_favicon_url="/static/favicon.svg",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get("/redoc/redoc.standalone.js", include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(redoc_script(), media_type="text/javascript; charset=utf-8")

    # -- model page data --------------------------------------------------------------------------------
    @app.get("/v1/models", summary="The shipped models: versions, training facts and measured quality")
    async def models_info() -> dict[str, Any]:
        loaded = models.get().versions if models.ready else {}
        return await asyncio.to_thread(model_info, checkpoints, loaded)

    # -- batch jobs -------------------------------------------------------------------------------------
    @app.post(
        "/v1/jobs",
        status_code=202,
        summary="Start a batch job: the body is a JSONL or CSV file",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
        responses={
            413: {"description": f"more than {limits.max_rows} rows, or a body over the size limit"},
            422: {"description": "not JSONL or CSV, or no text column"},
            503: {"description": "too many jobs at once"},
        },
    )
    async def create_job(
        request: Request, format: str | None = None, filename: str | None = None, tasks: str = ",".join(TASKS)
    ) -> JSONResponse:
        """The file's rows are analysed through the same queue as ``/v1/analyze``, a few at a time; poll
        ``GET /v1/jobs/{id}`` for progress, then download ``/v1/jobs/{id}/records.jsonl`` or ``.csv``. Jobs
        are kept in the server's memory for a day (not across a restart)."""
        data = await request.body()
        try:
            fmt = job_format(format, filename)
            wanted = tuple(t.strip() for t in tasks.split(",") if t.strip())
            # Parsing a 2 MB file takes tens of milliseconds: off the event loop, which answers /healthz meanwhile.
            job = await asyncio.to_thread(jobs.prepare, data, fmt, filename or f"upload.{fmt}", wanted)
            jobs.start(job)
        except JobError as exc:
            headers = {"Retry-After": "10"} if exc.status == 503 else None
            raise HTTPException(exc.status, str(exc), headers=headers) from None
        return JSONResponse(job.summary(), status_code=202)

    def job_or_404(job_id: str) -> Any:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "no such job: it finished more than a day ago, was cancelled, or the "
                                     "server was restarted since")
        return job

    @app.get("/v1/jobs/{job_id}", summary="A batch job's progress and error rows")
    async def job_status(job_id: str) -> dict[str, Any]:
        return job_or_404(job_id).summary()

    @app.delete("/v1/jobs/{job_id}", status_code=204, summary="Cancel a batch job and forget its records")
    async def job_cancel(job_id: str) -> Response:
        job_or_404(job_id)
        jobs.cancel(job_id)
        return Response(status_code=204)

    @app.get("/v1/jobs/{job_id}/records.{kind}", summary="A finished job's records: kind jsonl or csv")
    async def job_records(job_id: str, kind: str) -> Response:
        job = job_or_404(job_id)
        if kind not in ("jsonl", "csv"):
            raise HTTPException(404, "records come as .jsonl or .csv")
        if job.status != "done":
            raise HTTPException(409, f"the job is {job.status}; its records can be downloaded once it is done")
        stem = Path(job.filename).stem or "articles"
        disposition = {"Content-Disposition": f'attachment; filename="{_ascii_name(stem)}.analysed.{kind}"'}
        if kind == "jsonl":
            body = await asyncio.to_thread(records_jsonl, job.records())
            return Response(body, media_type="application/x-ndjson", headers=disposition)
        text = await asyncio.to_thread(records_csv, job.records())
        return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=disposition)

    return jobs


def _ascii_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80] or "articles"


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} kB"
