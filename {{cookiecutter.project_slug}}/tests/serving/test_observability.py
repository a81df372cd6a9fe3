"""JSON log lines and the metrics' labels."""

import asyncio
import json
import logging
import logging.config
from typing import Any

from {{ cookiecutter.package_name }}.serving.observability import (
    JsonFormatter,
    log_config,
    read_body,
)


def test_a_log_record_becomes_one_json_line_with_its_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "x", "levelname": "INFO", "msg": "request %s", "args": ("done",)}
    )
    record.request_id = "abc"
    record.color_message = "\x1b[1mnoise"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "request done"
    assert entry["request_id"] == "abc"
    assert "color_message" not in entry
    assert entry["time"].endswith("+00:00")


def test_uvicorns_access_log_is_replaced_by_the_apps() -> None:
    config = log_config("INFO")
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    logging.config.dictConfig(config)  # a valid configuration


def pieces(count: int, size: int) -> tuple[list[int], Any]:
    """A `receive` that sends `count` pieces of `size` bytes, and the count of pieces pulled."""
    pulled: list[int] = []

    async def receive() -> dict[str, Any]:
        pulled.append(1)
        more = len(pulled) < count
        return {"type": "http.request", "body": b"x" * size, "more_body": more}

    return pulled, receive


def test_a_body_is_read_whole_when_it_fits() -> None:
    pulled, receive = pieces(count=4, size=100)

    body = asyncio.run(read_body(receive, limit=400))

    assert body == b"x" * 400
    assert len(pulled) == 4


def test_reading_stops_as_soon_as_the_body_passes_the_limit() -> None:
    pulled, receive = pieces(count=100_000, size=1024)

    body = asyncio.run(read_body(receive, limit=10 * 1024))

    assert body is None
    assert len(pulled) == 11  # no more than one piece past the limit was ever held
