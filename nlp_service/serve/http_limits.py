"""Per-connection limits of ``nlp-service serve`` that uvicorn lacks: a deadline for receiving each request.

uvicorn closes a connection that idles between requests (``timeout_keep_alive``) and answers 503 past
``limit_concurrency`` connections, but a client that sends half a request line, or a 2 MB upload one byte a
second, holds its connection (and the bytes it sent) for ever. ``read_timeout_protocol(seconds)`` is uvicorn's
httptools protocol with a timer armed when a connection opens and when each request begins, and disarmed when
the request (headers and body) has arrived: when it fires, the client gets ``408 Request Timeout`` (unless an
answer has begun) and the connection is closed. The app's own time to answer does not count.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

log = logging.getLogger(__name__)


def timeout_response(seconds: float) -> bytes:
    body = json.dumps({"detail": f"the request was not received within {seconds:g} s"}).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def read_timeout_protocol(seconds: float) -> type | str:
    """uvicorn's ``http`` protocol class with a ``seconds`` deadline per request; ``"auto"`` (no deadline, a
    warning) where httptools, a dependency of the service, is missing."""
    try:
        # lazy: uvicorn and httptools load only in a server that runs (and httptools may be missing)
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        log.warning("httptools is not installed: requests have no read deadline (pip install httptools)")
        return "auto"

    class ReadTimeoutProtocol(HttpToolsProtocol):  # type: ignore[misc, valid-type]
        read_timeout_s = seconds
        _read_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()  # a connection that never sends a request is closed too

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()  # the next request on a keep-alive connection gets its own deadline

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._read_timer = self.loop.call_later(self.read_timeout_s, self._expire)

        def _disarm(self) -> None:
            if self._read_timer is not None:
                self._read_timer.cancel()
                self._read_timer = None

        def _expire(self) -> None:
            self._read_timer = None
            if self.transport.is_closing():
                return
            if self.cycle is None or not self.cycle.response_started:
                self.transport.write(timeout_response(self.read_timeout_s))
            self.transport.close()

    return ReadTimeoutProtocol
