"""Slow clients cannot starve a baked project's service: a request's headers have a deadline.

Uvicorn closes idle kept-alive connections, but not one that never finishes its headers: a
client that sends a header byte now and then (slowloris) held its connection for ever, and
enough of them starved `/health`. The served model here is the one `make run` trains.
"""

from __future__ import annotations

import select
import socket
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
from live_service import http, serving
from test_baked_project import installable

from conftest import DEFAULTS, FAST, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FAST, reason="TEMPLATE_TESTS_FAST=1: baked projects are not installed"),
]

SLUG = "customer-churn"
PREFIX = "CUSTOMER_CHURN_"
#: Connections that send their headers a byte at a time (bounded: one process, 2 cores).
SLOW_CLIENTS = 300
#: The deadlines the test serves with, in seconds (short, to keep the test short).
HEADER_TIMEOUT = 2
KEEP_ALIVE_TIMEOUT = 1
#: How long /health may take to answer while the slow clients hang on.
HEALTH_SECONDS = 1.0


def slow_client(port: int) -> socket.socket:
    """A connection that has sent the start of a request's headers, but not their end."""
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return client


def closed_by_server(client: socket.socket) -> bool:
    """Whether the server closed the connection (end of file, or a reset)."""
    readable, _, _ = select.select([client], [], [], 0)
    if not readable:
        return False
    try:
        return client.recv(1024) == b""
    except OSError:
        return True


def test_slow_headers_are_cut_off_and_health_answers_meanwhile(bake: Any, tmp_path: Path) -> None:
    answers, env = installable(DEFAULTS)
    project = bake(**answers)
    run(["make", "install"], cwd=project, env=env)
    run(["make", "run"], cwd=project, env=env)
    limits = {
        f"{PREFIX}HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        f"{PREFIX}KEEP_ALIVE_TIMEOUT": str(KEEP_ALIVE_TIMEOUT),
    }

    with serving(project, SLUG, PREFIX, env | limits) as url:
        port = int(url.rsplit(":", 1)[1])
        closed_after, health_seconds = hang_on(url, port)
        print(
            f"{SLOW_CLIENTS} slow clients: closed after {min(closed_after, default=0):.1f} to "
            f"{max(closed_after, default=0):.1f} s; /health answered {len(health_seconds)} "
            f"times meanwhile, in at most {max(health_seconds):.3f} s"
        )
        assert len(closed_after) == SLOW_CLIENTS, (
            f"{SLOW_CLIENTS - len(closed_after)} of {SLOW_CLIENTS} slow clients were still "
            f"connected {HEADER_TIMEOUT + 5} s after they opened"
        )
        assert min(closed_after) >= HEADER_TIMEOUT - 0.5  # cut off by the deadline, not sooner
        assert max(closed_after) <= HEADER_TIMEOUT + 2
        assert max(health_seconds) < HEALTH_SECONDS

        idle = HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            idle.request("GET", "/health")
            assert idle.getresponse().read()
            time.sleep(KEEP_ALIVE_TIMEOUT + 1)
            assert idle.sock is not None
            assert closed_by_server(idle.sock), "an idle kept-alive connection stayed open"
        finally:
            idle.close()


def hang_on(url: str, port: int) -> tuple[list[float], list[float]]:
    """Open the slow clients; every half second, time /health and send each open client one
    more header byte (data that must not restart its clock), until all are closed or
    HEADER_TIMEOUT + 5 s have passed.

    Returns the seconds after which each closed client was closed, and /health's answer times.
    """
    opened = time.monotonic()
    clients = [slow_client(port) for _ in range(SLOW_CLIENTS)]
    closed_after: dict[int, float] = {}
    health_seconds: list[float] = []
    try:
        while len(closed_after) < SLOW_CLIENTS and time.monotonic() - opened < HEADER_TIMEOUT + 5:
            started = time.monotonic()
            status, body = http("GET", f"{url}/health", timeout=HEALTH_SECONDS * 5)
            health_seconds.append(time.monotonic() - started)
            assert status == 200, body
            for number, client in enumerate(clients):
                if number in closed_after:
                    continue
                if closed_by_server(client):
                    closed_after[number] = time.monotonic() - opened
                else:
                    client.send(b"X")
            time.sleep(0.5)
    finally:
        for client in clients:
            client.close()
    return list(closed_after.values()), health_seconds
