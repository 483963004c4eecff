"""The web pages (``/``, ``/batch``, ``/model``), the documents the model page links to, the offline API docs
(``/docs``, ``/redoc``) and the model page's data (``/v1/models``).

Each page is ``templates/layout.html`` (head, navigation, footer) around its own ``<main>`` in ``templates/``;
``{{name}}`` tokens in it are filled with HTML-escaped values.
"""

from __future__ import annotations

import asyncio
import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from nlp_service.serve.state import ServiceState, service_state
from nlp_service.serve.web.model_info import DOCS, model_info

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
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
TOKEN = re.compile(r"\{\{(\w+)\}\}")
# ReDoc 2 draws the Redocly logo from its makers' CDN beside its "API docs by Redocly" link, whatever its options
# say; /redoc gets the vendored file with that one address replaced by an empty inline image (the file on disk
# stays as published, so its checksum can be compared with the npm package's).
REDOC_JS = STATIC / "vendor" / "redoc" / "redoc.standalone.js"
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
BLANK_IMAGE = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"

router = APIRouter()
State = Annotated[ServiceState, Depends(service_state)]


@dataclass(frozen=True)
class Page:
    path: str  # its address, marked as the current page in the navigation
    main: str  # the file in templates/ that holds its <main>
    title: str
    scripts: tuple[str, ...]  # its scripts in static/, in the order they run (after common.js)
    body_attributes: str = ""  # tokens allowed: they are filled in with the page's values


ANALYZE = Page("/", "index.html", "Analyze an article", ("spans.js", "analyze.js"))
BATCH = Page(
    "/batch", "batch.html", "Analyze a file", ("batch.js",),
    body_attributes=' data-max-bytes="{{max_bytes}}" data-max-rows="{{max_rows_raw}}"',
)
MODEL = Page("/model", "model.html", "The models", ("model.js",))


@functools.cache
def redoc_script() -> bytes:
    """The vendored ReDoc bundle as /redoc serves it: no address outside this origin."""
    return REDOC_JS.read_bytes().replace(REDOC_LOGO, BLANK_IMAGE)


def render(page: Page, values: dict[str, str] | None = None) -> str:
    """The page's HTML: the layout around its <main>, then its ``{{name}}`` tokens filled with escaped values
    (a token without a value stays as it is)."""
    layout = (TEMPLATES / "layout.html").read_text("utf-8")
    layout = layout.replace(f'<a href="{page.path}">', f'<a href="{page.path}" aria-current="page">', 1)
    slots = {
        "title": page.title,
        "scripts": "\n".join(f'  <script src="/static/{name}" defer></script>' for name in page.scripts),
        "body_attributes": page.body_attributes,
        "main": (TEMPLATES / page.main).read_text("utf-8").rstrip("\n"),
    }
    text = TOKEN.sub(lambda m: slots.get(m.group(1), m.group(0)), layout)
    values = values or {}
    return TOKEN.sub(lambda m: html.escape(values.get(m.group(1), m.group(0))), text)


def page_response(page: Page, values: dict[str, str] | None = None) -> HTMLResponse:
    headers = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"}
    return HTMLResponse(render(page, values), headers=headers)


def size_text(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} kB"


# -- pages ------------------------------------------------------------------------------------------------
@router.get("/", include_in_schema=False)
async def analyze_page() -> HTMLResponse:
    return page_response(ANALYZE)


@router.get("/batch", include_in_schema=False)
async def batch_page(state: State) -> HTMLResponse:
    max_rows, max_bytes = state.jobs.limits.max_rows, state.config.max_body_bytes
    values = {
        "max_rows": f"{max_rows:,}",
        "max_rows_raw": str(max_rows),
        "max_bytes": str(max_bytes),
        "max_size": size_text(max_bytes),
    }
    return page_response(BATCH, values)


@router.get("/model", include_in_schema=False)
async def model_page() -> HTMLResponse:
    return page_response(MODEL)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


@router.get("/doc/{name}", include_in_schema=False)
async def doc(name: str, state: State) -> PlainTextResponse:
    # Only the documents the model page names, read from the source checkout (a wheel has no docs/).
    folder = state.docs_folder
    path = folder / f"{name}.md" if folder is not None and name in DOCS else None
    if path is None or not path.is_file():
        raise HTTPException(404, f"no document {name!r} here; the docs are in the repository's docs/ folder")
    return PlainTextResponse(path.read_text("utf-8"), media_type="text/plain; charset=utf-8")


# -- offline API docs ---------------------------------------------------------------------------------------
@router.get("/docs", include_in_schema=False)
async def swagger(request: Request) -> HTMLResponse:
    app = request.app
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} - API docs",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        # None: no badge that sends the spec to the public online validator.
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


@router.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    app = request.app
    page = get_redoc_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} - API reference",
        redoc_js_url="/redoc/redoc.standalone.js",
        redoc_favicon_url="/static/favicon.svg",
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


@router.get("/redoc/redoc.standalone.js", include_in_schema=False)
async def redoc_js() -> Response:
    return Response(redoc_script(), media_type="text/javascript; charset=utf-8")


# -- model page data ----------------------------------------------------------------------------------------
@router.get("/v1/models", summary="The shipped models: versions, training facts and measured quality")
async def models_info(state: State) -> dict[str, Any]:
    models = state.models
    loaded = models.get().versions if models.ready else {}
    return await asyncio.to_thread(model_info, state.checkpoints, loaded)
