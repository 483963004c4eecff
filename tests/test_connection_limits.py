"""Per-connection limits of ``nlp-service serve``: a request that does not arrive within the read timeout gets
408 and its connection is closed, idle and stalled connections do not stay open, and past the connection cap
new requests get 503 (uvicorn with the service's settings, on a real socket)."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from test_server import LiveServer, wait_ready

from nlp_service.serve import ServerConfig, create_app

READ_TIMEOUT_S = 0.5


class Served(LiveServer):
    """The service on a loopback port with its own uvicorn settings, and raw sockets to it."""

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@pytest.fixture
def served(fake_analyzer):
    config = ServerConfig(read_timeout_s=READ_TIMEOUT_S, keep_alive_s=1, max_connections=8)
    with Served(create_app(fake_analyzer, config=config), config) as s:
        with httpx.Client(base_url=f"http://127.0.0.1:{s.port}") as c:
            assert wait_ready(c).status_code == 200
        yield s


def read_all(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize(
    "sent",
    [
        b"POST /v1/classify HTTP/1.1\r\nHost: x\r\n",  # headers never finished
        b"POST /v1/classify HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 2000000\r\n"
        b"\r\n" + b'{"text": "' + b"x" * 5000,  # a 2 MB upload that stalls
        b"",  # a connection that sends nothing
    ],
)
def test_a_request_not_received_in_time_gets_408_and_the_connection_closes(served, sent):
    with served.connect() as conn:
        conn.sendall(sent)
        started = time.monotonic()
        answer = read_all(conn)  # returns once the server closes the connection
        waited = time.monotonic() - started
    assert READ_TIMEOUT_S * 0.8 <= waited < READ_TIMEOUT_S + 3
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout") and b"not received within 0.5 s" in answer


def test_a_prompt_client_is_not_affected_and_keep_alive_still_works(served):
    with httpx.Client(base_url=f"http://127.0.0.1:{served.port}") as c:
        for _ in range(3):
            assert c.post("/v1/classify", json={"text": "Kenya held an election."}).status_code == 200
            time.sleep(READ_TIMEOUT_S * 0.6)  # idle between requests: the read deadline is per request


def test_past_the_connection_cap_new_requests_get_503(served):
    stalled = [served.connect() for _ in range(8)]
    try:
        for conn in stalled:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # half a request each
        time.sleep(0.1)
        with httpx.Client(base_url=f"http://127.0.0.1:{served.port}") as c:
            assert c.get("/readyz").status_code == 503
        time.sleep(READ_TIMEOUT_S + 0.5)  # the stalled ones are closed by their read deadline
        with httpx.Client(base_url=f"http://127.0.0.1:{served.port}") as c:
            assert c.get("/readyz").status_code == 200
    finally:
        for conn in stalled:
            conn.close()
