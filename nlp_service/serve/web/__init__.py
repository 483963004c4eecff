"""The web pages of ``nlp-service serve``, for people who do not write code, and the offline API docs.

- ``/``: paste an article, press Analyze; countries, regions and themes with their evidence marked in the text,
  the summary with the checker's verdict, and a box that checks a summary of your own (``static/analyze.js``).
- ``/batch``: upload a JSONL or CSV file; the job runs through the service's bounded queue
  (``nlp_service.serve.jobs``; endpoints in ``job_routes.py``), the page polls ``/v1/jobs/{id}`` and offers the
  records as JSONL and CSV (``static/batch.js``).
- ``/model``: the shipped models' versions and measured quality with a per-theme F1 chart (``model_info.py``,
  ``static/model.js``).
- ``/docs`` and ``/redoc``: Swagger UI and ReDoc from files vendored in ``static/vendor/`` (FastAPI's defaults
  load them from a CDN, which leaves the pages blank offline).

The pages are ``templates/layout.html`` around each page's own ``<main>`` (``pages.py``). Every asset is a file
of this package, served from the same origin; the pages send a Content-Security-Policy that lets the browser load
nothing from anywhere else.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from nlp_service.serve.jobs import JobLimits
from nlp_service.serve.web.job_routes import jobs_router
from nlp_service.serve.web.pages import STATIC
from nlp_service.serve.web.pages import router as pages_router

__all__ = ["STATIC", "install"]


def install(app: FastAPI, job_limits: JobLimits) -> None:
    """Add the pages, their assets, the docs and the job endpoints to ``app`` (whose ``app.state.service`` they
    use)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages_router)
    app.include_router(jobs_router(job_limits))
