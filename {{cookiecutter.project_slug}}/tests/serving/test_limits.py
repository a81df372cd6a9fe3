"""What a client may send: headers, idle time and connections on a real uvicorn server; bodies."""

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.client import HTTPConnection
from typing import Any

import pytest
import uvicorn
from fastapi import HTTPException

from {{ cookiecutter.package_name }}.serving.limits import MAX_HEADER_BYTES, BodyLimit
from {{ cookiecutter.package_name }}.serving.main import create_app, server_options
from {{ cookiecutter.package_name }}.serving.model import Model
from {{ cookiecutter.package_name }}.settings import Settings

#: Short deadlines, in seconds, so that the tests are short.
HEADER_TIMEOUT = 0.5
KEEP_ALIVE_TIMEOUT = 1
MAX_CONNECTIONS = 3


@pytest.fixture
def port(service_settings: Callable[..., Settings], model: Model) -> Iterator[int]:
    """The port of a uvicorn server started with `server_options`, on 127.0.0.1."""
    settings = service_settings(
        header_timeout=HEADER_TIMEOUT,
        keep_alive_timeout=KEEP_ALIVE_TIMEOUT,
        max_connections=MAX_CONNECTIONS,
    )
    options = server_options(settings) | {"log_config": None}  # the test's logging stays
    server = uvicorn.Server(uvicorn.Config(create_app(settings, model=model), **options))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "the server did not start"
        yield int(listener.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def seconds_until_closed(client: socket.socket, limit: float) -> float:
    """Send a byte every 0.1 s until the server closes the connection; the seconds that took."""
    started = time.monotonic()
    client.settimeout(0.1)
    while time.monotonic() - started < limit:
        try:
            if client.recv(1024) == b"":
                return time.monotonic() - started
        except TimeoutError:
            client.send(b"X")  # one more byte of a header that never ends
        except OSError:  # reset
            return time.monotonic() - started
    raise AssertionError(f"the connection was still open after {limit} s")


def test_headers_that_never_end_are_cut_off_at_the_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        seconds = seconds_until_closed(client, limit=HEADER_TIMEOUT + 5)
    assert HEADER_TIMEOUT - 0.1 <= seconds <= HEADER_TIMEOUT + 1


def test_headers_larger_than_the_limit_are_refused_at_once(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.settimeout(HEADER_TIMEOUT / 2)  # answered before the deadline could close it
        client.sendall(b"GET /health HTTP/1.1\r\nX-Filler: " + b"a" * MAX_HEADER_BYTES)
        answer = client.recv(1024)
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_headers_just_under_the_limit_are_served(port: int) -> None:
    filler = "a" * (MAX_HEADER_BYTES - 1024)
    connection = HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/health", headers={"X-Filler": filler})
    assert connection.getresponse().status == 200
    connection.close()


def test_a_connection_that_sends_nothing_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.settimeout(HEADER_TIMEOUT + 5)
        assert client.recv(1024) == b""


def test_a_later_request_on_a_kept_alive_connection_has_its_own_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as client:
        time.sleep(HEADER_TIMEOUT * 0.6)  # the first request's clock runs from the connection
        client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        client.settimeout(5)
        assert client.recv(1024).startswith(b"HTTP/1.1 200")
        time.sleep(HEADER_TIMEOUT * 0.6)  # past the first deadline: the clock stopped
        client.sendall(b"GET /health HTTP/1.1\r\n")
        seconds = seconds_until_closed(client, limit=HEADER_TIMEOUT + 5)
    assert HEADER_TIMEOUT - 0.1 <= seconds <= HEADER_TIMEOUT + 1


def test_an_idle_kept_alive_connection_is_closed(port: int) -> None:
    connection = HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/health")
    assert connection.getresponse().read()
    assert connection.sock is not None
    connection.sock.settimeout(KEEP_ALIVE_TIMEOUT + 5)
    started = time.monotonic()
    assert connection.sock.recv(1024) == b""
    assert time.monotonic() - started <= KEEP_ALIVE_TIMEOUT + 1
    connection.close()


def test_past_the_connection_cap_requests_are_answered_503(port: int) -> None:
    hanging = [socket.create_connection(("127.0.0.1", port)) for _ in range(MAX_CONNECTIONS)]
    try:
        connection = HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/health")
        assert connection.getresponse().status == 503
        connection.close()
    finally:
        for client in hanging:
            client.close()


def test_a_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    pulled = 0

    async def endless(*_: Any) -> dict[str, Any]:  # a body with no end, 1 KiB at a time
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            await receive()

    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", b"application/json")]}
    with pytest.raises(HTTPException) as refused:
        asyncio.run(BodyLimit(app, max_bytes=10 * 1024)(scope, endless, endless))
    assert refused.value.status_code == 413
    assert pulled == 11  # no more than one piece past the limit was ever read
