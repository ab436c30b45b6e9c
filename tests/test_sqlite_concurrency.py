"""The embedded default under concurrent use: a real ``serve`` on SQLite, parallel clients, an import and
call writes at the same time, and not one error (the full-size run with figures: bench/sqlite_concurrency)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sqlite_concurrency import report, run_load


@pytest.mark.timeout(900)
def test_parallel_clients_an_import_and_calls_see_no_error(tmp_path: Path) -> None:
    result = run_load(tmp_path, clients=4, requests=40, rows=500)
    summary = report(result, 4)
    assert result.requests == 160, summary
    assert result.error_count == 0, summary
    assert result.imports_ok >= 1 and result.imports_failed == 0, summary
    assert result.calls_written >= 1 and result.calls_failed == 0, summary
    assert result.locked_log_lines == 0 and result.error_log_lines == 0, summary
