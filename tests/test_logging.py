"""Structured logs carry extra fields such as the call's Linkedid."""

from __future__ import annotations

import ast
import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from callrouter.logging_setup import JsonFormatter, StderrHandler


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


RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
PACKAGES = ("callrouter", "crm_core", "routing", "pbx_bridge", "bench")
ROOT = Path(__file__).resolve().parents[1]


def _extra_keys(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String keys of every ``extra=`` dict written in a call (``extra={...}`` and ``{...} | {...}``)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg != "extra":
                continue
            for part in ast.walk(keyword.value):
                if isinstance(part, ast.Dict):
                    for key in part.keys:
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            yield part.lineno, key.value


def test_no_log_call_passes_a_reserved_record_attribute_as_extra() -> None:
    """``extra={"created": ...}`` raises KeyError inside logging whenever the level is enabled."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {key}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, key in _extra_keys(ast.parse(path.read_text(), str(path)))
        if key in RESERVED
    ]
    assert found == []


def test_the_reserved_names_scan_sees_a_reserved_key() -> None:
    tree = ast.parse('log.info("x", extra={"linkedid": 1} | {"created": True})')
    assert [key for _, key in _extra_keys(tree) if key in RESERVED] == ["created"]


def test_suite_logs_as_serve_does() -> None:
    """The autouse ``serve_logging`` fixture: INFO, JSON lines, and a reserved ``extra`` raises."""
    root = logging.getLogger()
    assert root.level == logging.INFO
    assert any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    with pytest.raises(KeyError, match="created"):
        logging.getLogger("callrouter.test").info("finished", extra={"created": True})


def test_serve_logs_to_stderr_as_it_is_when_the_record_comes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A late thread never writes to a stderr that was swapped and closed since the handler was made."""
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("callrouter.test.stderr")
    monkeypatch.setattr(logger, "propagate", False)  # only this handler writes
    logger.addHandler(handler)
    try:
        first, second = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stderr", first)
        logger.warning("one", extra={"linkedid": "1.1"})
        first.close()
        monkeypatch.setattr(sys, "stderr", second)
        logger.warning("two", extra={"linkedid": "1.2"})
    finally:
        logger.removeHandler(handler)
    assert [json.loads(line)["linkedid"] for line in second.getvalue().splitlines()] == ["1.2"]
