"""JSON log lines, for the service and uvicorn alike."""

import json
import logging
import logging.config

from {{ cookiecutter.package_name }}.serving.observability import JsonFormatter, log_config


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
