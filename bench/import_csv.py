"""``callrouter import`` of a 100,000-row counterparty CSV on SQLite and PostgreSQL.

Run: ``.venv/bin/python -m bench.import_csv [--rows N] [--backend sqlite|postgres|both]``. For each backend
a fresh migrated database gets 50 managers, then the generated file is imported twice by the real
``callrouter import`` command in a subprocess (so the figures include start-up, decoding, normalization and
the commit): the first run creates every row, the second finds every row unchanged. The importer's own
CPU seconds are printed too: unlike wall time they do not grow when other work shares the machine (the
database server's CPU is not included).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.databases import Backend, throwaway_database

MANAGERS = 50
STATUSES = ("potential", "regular", "one_time_fresh", "one_time_old", "departed")


def _city(i: int) -> str:
    """A Kazan landline written in one of the common forms, unique per ``i`` (< 1,000,000)."""
    digits = f"{2_000_000 + i:07d}"
    forms = (
        f"8 (843) {digits[:3]}-{digits[3:5]}-{digits[5:]}",
        f"+7 843 {digits}",
        f"8843{digits}",
    )
    return forms[i % 3]


def counterparty_csv(rows: int) -> str:
    """A deterministic 1C-like export (``;``, Russian headers); every other client has a second number."""
    lines = ["Код;Наименование;ИНН;Телефоны;Менеджер;Статус;Регион"]
    for i in range(rows):
        phones = _city(i) + (f", +7 900 {1_000_000 + i:07d}" if i % 2 else "")
        lines.append(
            f"C{i:06d};ООО Клиент {i:06d};{7_700_000_000 + i};{phones};"  # noqa: RUF001
            f"m{i % MANAGERS:02d};{STATUSES[i % len(STATUSES)]};Татарстан"
        )
    return "\n".join(lines) + "\n"


def managers_csv() -> str:
    return "login,name,extension\n" + "".join(f"m{i:02d},Manager {i},{100 + i}\n" for i in range(MANAGERS))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _callrouter(url: str, *args: str) -> tuple[float, float, str]:
    """Run ``callrouter import ...`` on ``url``: wall seconds, its own CPU seconds and its summary line."""
    env = os.environ | {"CALLROUTER_DATABASE_URL": url, "CALLROUTER_ENV": "development"}
    command = [str(Path(sys.executable).with_name("callrouter")), "import", *args]
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed, _children_cpu() - cpu, done.stdout.strip()


def bench(backend: Backend, rows: int, workdir: Path) -> None:
    clients = workdir / "clients.csv"
    managers = workdir / "managers.csv"
    with throwaway_database(backend, migrate=True) as url:
        _callrouter(url, str(managers), "--kind", "managers")
        for label in ("first import", "re-import"):
            seconds, cpu, summary = _callrouter(url, str(clients))
            print(
                f"{backend:8} {label:12} {rows:>7} rows {seconds:6.1f} s {rows / seconds:>8,.0f} rows/s "
                f"(importer CPU {cpu:5.1f} s)  {summary}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "clients.csv").write_text(counterparty_csv(args.rows), encoding="utf-8")
        (workdir / "managers.csv").write_text(managers_csv(), encoding="utf-8")
        backends: tuple[Backend, ...] = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
        for backend in backends:
            bench(backend, args.rows, workdir)


if __name__ == "__main__":
    main()
