"""GET /healthz (the process answers) and GET /readyz (200 once the models are loaded, else 503), both answered
on the event loop itself, never queued behind model work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from nlp_service.serve.responses import READY_RESPONSES
from nlp_service.serve.state import ServiceState, service_state

router = APIRouter()


# GET and HEAD are answered by the HealthFastPath middleware before routing; the route documents them.
@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="200 once the models are loaded, 503 before", responses=READY_RESPONSES)
async def readyz(state: Annotated[ServiceState, Depends(service_state)]) -> JSONResponse:
    models = state.models
    if models.ready:
        assert models.analyzer is not None
        return JSONResponse({"ready": True, "model": models.analyzer.versions})
    reason = "the models failed to load; see the server log" if models.failed else "the models are loading"
    return JSONResponse({"ready": False, "reason": reason}, status_code=503)
