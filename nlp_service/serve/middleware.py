"""The ASGI layers around the app, outermost first: the access log, the ``/healthz`` fast path, and the request
body limit."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

access_log = logging.getLogger("nlp_service.access")

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any
]


class BodyLimit:
    """Refuses bodies over ``max_bytes`` with 413: by Content-Length before reading, and by counting the bytes
    actually received (a chunked body has no Content-Length)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._drain(receive, more=True)
            await self._too_large(send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._drain(receive, more=message.get("more_body", False))
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _drain(self, receive: Any, more: bool) -> None:
        """Read (and drop) what the client is still sending, up to a bound: answering while it is mid-upload
        makes many clients see a connection reset instead of the 413."""
        budget = 4 * self.max_bytes + 1_000_000
        while more and budget > 0:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            budget -= len(message.get("body", b""))
            more = message.get("more_body", False)

    async def _too_large(self, send: Any) -> None:
        payload = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


class HealthFastPath:
    """Answers ``GET /healthz`` before routing, validation and the body limit: the liveness probe costs the
    event loop a few microseconds however many requests are in flight."""

    BODY = b'{"status":"ok"}'

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/healthz" and scope["method"] in ("GET", "HEAD"):
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.BODY)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": self.BODY if scope["method"] == "GET" else b""})
            return
        await self.app(scope, receive, send)


class AccessLog:
    """One JSON line per request on the ``nlp_service.access`` logger: method, path, status, milliseconds,
    client, and the queue depth the request found (uvicorn's own access log is turned off by ``serve``)."""

    def __init__(self, app: ASGIApp, queue_depth: Callable[[], int]):
        self.app, self.queue_depth = app, queue_depth

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status, depth = time.perf_counter(), 0, self.queue_depth()

        async def send_and_watch(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client") or ("", 0)
                access_log.info(
                    json.dumps(
                        {
                            "ts": round(time.time(), 3),
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status or 500,
                            "ms": round((time.perf_counter() - started) * 1000, 1),
                            "client": f"{client[0]}:{client[1]}",
                            "queued": depth,
                        }
                    )
                )
