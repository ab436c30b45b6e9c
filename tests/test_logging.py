"""Structured logs carry extra fields such as the call's Linkedid."""

from __future__ import annotations

import json
import logging

from callrouter.logging_setup import JsonFormatter


def test_json_line_has_extra_fields() -> None:
    record = logging.LogRecord(
        "callrouter.test", logging.WARNING, __file__, 1, "degraded %s", ("redis",), None
    )
    record.linkedid = "1795875455.438"
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "degraded redis"
    assert line["level"] == "warning"
    assert line["linkedid"] == "1795875455.438"
    assert "args" not in line
