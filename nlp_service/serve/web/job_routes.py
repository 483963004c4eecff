"""The batch page's job endpoints: POST /v1/jobs (an uploaded JSONL or CSV file), GET /v1/jobs/{id} (progress),
DELETE /v1/jobs/{id} (cancel) and GET /v1/jobs/{id}/records.jsonl or .csv (the finished job's records)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from nlp_service.analyzer import TASKS
from nlp_service.serve.jobs import Job, JobError, JobLimits, JobStore, job_format, records_csv, records_jsonl
from nlp_service.serve.responses import JOB_SCHEMA, NO_SUCH_JOB, error_responses, json_content
from nlp_service.serve.state import ServiceState, service_state

State = Annotated[ServiceState, Depends(service_state)]
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


def jobs_router(limits: JobLimits) -> APIRouter:
    """The job endpoints; ``limits`` is what /openapi.json states of an upload."""
    router = APIRouter()
    router.add_api_route(
        "/v1/jobs",
        create_job,
        methods=["POST"],
        status_code=202,
        summary="Start a batch job: the body is a JSONL or CSV file",
        openapi_extra=UPLOAD_BODY,
        responses={
            202: json_content(JOB_SCHEMA, "the job is queued"),
            **error_responses({
                413: f"more than {limits.max_rows} rows, or a body over the size limit",
                422: "not JSONL or CSV, or no text column",
                503: "too many jobs at once (see Retry-After)",
            }),
        },
    )
    router.add_api_route("/v1/jobs/{job_id}", job_status, methods=["GET"],
                         summary="A batch job's progress and error rows",
                         responses={200: json_content(JOB_SCHEMA, "the job"), **error_responses({404: NO_SUCH_JOB})})
    router.add_api_route("/v1/jobs/{job_id}", job_cancel, methods=["DELETE"], status_code=204,
                         summary="Cancel a batch job and forget its records",
                         responses={204: {"description": "cancelled"}, **error_responses({404: NO_SUCH_JOB})})
    router.add_api_route("/v1/jobs/{job_id}/records.{kind}", job_records, methods=["GET"],
                         summary="A finished job's records: kind jsonl or csv", response_class=Response,
                         responses={
                             200: {"description": "the records, one per input row, in the input's order",
                                   "content": {"application/x-ndjson": {"schema": {"type": "string"}},
                                               "text/csv": {"schema": {"type": "string"}}}},
                             **error_responses({404: f"{NO_SUCH_JOB}, or a kind other than jsonl or csv",
                                                409: "the job is not done yet"}),
                         })
    return router


async def create_job(
    request: Request, state: State, format: str | None = None, filename: str | None = None, tasks: str = ",".join(TASKS)
) -> JSONResponse:
    """The file's rows are analysed through the same queue as ``/v1/analyze``, a few at a time; poll
    ``GET /v1/jobs/{id}`` for progress, then download ``/v1/jobs/{id}/records.jsonl`` or ``.csv``. Jobs
    are kept in the server's memory for a day (not across a restart)."""
    data = await request.body()
    jobs = state.jobs
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


def job_or_404(jobs: JobStore, job_id: str) -> Job:
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(404, NO_SUCH_JOB)
    return job


async def job_status(job_id: str, state: State) -> dict[str, Any]:
    return job_or_404(state.jobs, job_id).summary()


async def job_cancel(job_id: str, state: State) -> Response:
    job_or_404(state.jobs, job_id)
    state.jobs.cancel(job_id)
    return Response(status_code=204)


async def job_records(job_id: str, kind: str, state: State) -> Response:
    job = job_or_404(state.jobs, job_id)
    if kind not in ("jsonl", "csv"):
        raise HTTPException(404, "records come as .jsonl or .csv")
    if job.status != "done":
        raise HTTPException(409, f"the job is {job.status}; its records can be downloaded once it is done")
    stem = Path(job.filename).stem or "articles"
    disposition = {"Content-Disposition": f'attachment; filename="{ascii_name(stem)}.analysed.{kind}"'}
    if kind == "jsonl":
        body = await asyncio.to_thread(records_jsonl, job.records())
        return Response(body, media_type="application/x-ndjson", headers=disposition)
    text = await asyncio.to_thread(records_csv, job.records())
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=disposition)


def ascii_name(stem: str) -> str:
    """A download's file name as plain ASCII (the Content-Disposition header's safe subset)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80] or "articles"
