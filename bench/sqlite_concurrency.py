"""The embedded default (SQLite) under concurrent use: parallel API clients while an import and calls write.

Run: ``.venv/bin/python -m bench.sqlite_concurrency [--clients 8] [--requests 500] [--rows 5000]``.

A fresh SQLite database is migrated and a real ``callrouter serve`` is started on it (API, FastAGI and the
escalation worker polling every 0.2 s). Then, at the same time:

* ``--clients`` threads each send ``--requests`` mixed API requests: searches and single reads with an API
  token, ``/auth/me`` with an access token, counterparty creations and updates, and password logins;
* the real ``callrouter import`` command imports a ``--rows`` counterparty file again and again (each run
  changes every row's region, so every run writes);
* a "call burst" process writes finished, missed inbound calls the way the AMI call-tracking sink does,
  which gives the escalation worker steps to schedule and notifications to deliver.

An error is a transport failure, any 5xx, or a status the request cannot legitimately get. The figures:
errors by kind, request latency percentiles, import runs and call writes done, and the server's log lines
that mention a locked database.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.import_csv import counterparty_csv, managers_csv
from bench.serve_process import callrouter_command, free_port, run_cli, running_serve, serve_env

ADMIN_LOGIN = "bench-admin"
ADMIN_PASSWORD = "bench-admin-password"  # a throw-away database


@dataclass
class LoadResult:
    """What one run saw."""

    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    imports_ok: int = 0
    imports_failed: int = 0
    import_errors: list[str] = field(default_factory=list)
    calls_written: int = 0
    calls_failed: int = 0
    locked_log_lines: int = 0
    log_samples: list[str] = field(default_factory=list)
    error_log_lines: int = 0
    seconds: float = 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def _env(workdir: Path, api_port: int, agi_port: int) -> dict[str, str]:
    env = serve_env(workdir, api_port, agi_port)
    env.update(CALLROUTER_ESCALATION_POLL_INTERVAL_S="0.2", CALLROUTER_ADMIN_PASSWORD=ADMIN_PASSWORD)
    return env


def prepare(workdir: Path, env: dict[str, str], rows: int) -> tuple[Path, Path]:
    """Migrate, create the admin and the managers; two import files that differ in every row."""
    run_cli(env, workdir, "db", "upgrade")
    run_cli(env, workdir, "users", "create-admin", "--login", ADMIN_LOGIN, "--name", "Bench Admin")
    managers = workdir / "managers.csv"
    managers.write_text(managers_csv(), encoding="utf-8")
    run_cli(env, workdir, "import", str(managers), "--kind", "managers")
    text = counterparty_csv(rows)
    first, second = workdir / "clients-a.csv", workdir / "clients-b.csv"
    first.write_text(text, encoding="utf-8")
    second.write_text(text.replace(";Татарстан\n", ";Чувашия\n"), encoding="utf-8")
    return first, second


def _login(client: httpx.Client) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"login": ADMIN_LOGIN, "password": ADMIN_PASSWORD})


def credentials(base_url: str) -> tuple[str, str]:
    """An access token and an API token of the admin."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        access = _login(client).raise_for_status().json()["access_token"]
        issued = client.post(
            "/api/v1/auth/api-tokens", json={"name": "bench"}, headers={"Authorization": f"Bearer {access}"}
        )
        return access, issued.raise_for_status().json()["token"]


_OK = {
    "search": {200},
    "read": {200},
    "me": {200},
    "create": {201},
    "update": {200},
    "login": {200},
}


def _client_work(
    base_url: str,
    access: str,
    api_token: str,
    number: int,
    requests: int,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    rng = random.Random(number)
    by_token = {"Authorization": f"Bearer {api_token}"}
    by_access = {"Authorization": f"Bearer {access}"}
    mine: list[int] = []
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for i in range(requests):
            roll = rng.random()
            kind = (
                "search"
                if roll < 0.35
                else "me"
                if roll < 0.50
                else "create"
                if roll < 0.70 or not mine
                else "update"
                if roll < 0.82
                else "read"
                if roll < 0.95
                else "login"
            )
            started = time.perf_counter()
            try:
                if kind == "search":
                    response = client.get(
                        "/api/v1/counterparties",
                        params={"q": f"Клиент {rng.randrange(100):04d}"},
                        headers=by_token,
                    )
                elif kind == "me":
                    response = client.get("/api/v1/auth/me", headers=by_access)
                elif kind == "create":
                    phone = f"+7 9{number:02d} {rng.randrange(10_000_000):07d}"
                    body = {"name": f"Load client {number}-{i}", "phones": [phone]}
                    response = client.post("/api/v1/counterparties", json=body, headers=by_token)
                    if response.status_code == 409:  # the random number was taken: a legitimate answer
                        response = client.post(
                            "/api/v1/counterparties", json={"name": body["name"]}, headers=by_token
                        )
                    if response.status_code == 201:
                        mine.append(response.json()["id"])
                elif kind == "update":
                    response = client.patch(
                        f"/api/v1/counterparties/{rng.choice(mine)}",
                        json={"notes": f"note {i}"},
                        headers=by_access,
                    )
                elif kind == "read":
                    response = client.get(f"/api/v1/counterparties/{rng.choice(mine)}", headers=by_token)
                else:
                    response = _login(client)
                status, text = response.status_code, response.text[:300]
            except httpx.HTTPError as exc:
                status, text = 0, repr(exc)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                result.requests += 1
                result.latencies_ms.append(elapsed)
                if status not in _OK[kind]:
                    result.errors[f"{kind} {status}"] += 1
                    if len(result.samples) < 10:
                        result.samples.append(f"{kind} -> {status}: {text}")


def _import_loop(
    env: dict[str, str], cwd: Path, files: tuple[Path, Path], stop: threading.Event, result: LoadResult
) -> None:
    turn = 0
    while not stop.is_set():
        command = callrouter_command("import", str(files[turn % 2]))
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
        turn += 1
        if done.returncode == 0:
            result.imports_ok += 1
        else:
            result.imports_failed += 1
            result.import_errors.append(done.stderr.strip()[:300])


def call_burst(url: str, stop: Any, written: Any, failed: Any) -> None:
    """Write missed inbound calls in short transactions, as the AMI sink does (runs in its own process)."""
    from crm_core.db import make_engine, make_session_factory
    from crm_core.models import CallDirection, CallDisposition, MissedReason
    from crm_core.services.call_records import FinishedCall, record_finished_call

    sessions = make_session_factory(make_engine(url))
    n = 0
    while not stop.is_set():
        n += 1
        call = FinishedCall(
            linkedid=f"burst.{os.getpid()}.{n}",
            direction=CallDirection.INBOUND,
            disposition=CallDisposition.NO_ANSWER,
            started_at=datetime.now(UTC),
            caller_number=f"+7843{2_000_000 + n % 5000:07d}",
            callee_number="100",
            missed_reason=MissedReason.MANAGER_NO_ANSWER,
        )
        try:
            with sessions.begin() as session:
                record_finished_call(session, "main", call)
            with written.get_lock():
                written.value += 1
        except Exception as exc:
            with failed.get_lock():
                failed.value += 1
            print(f"call write failed: {exc!r}", file=sys.stderr, flush=True)
        time.sleep(0.02)


def run_load(workdir: Path, *, clients: int, requests: int, rows: int) -> LoadResult:
    """One full run in ``workdir`` (see the module docstring)."""
    api_port, agi_port = free_port(), free_port()
    env = _env(workdir, api_port, agi_port)
    files = prepare(workdir, env, rows)
    base_url = f"http://127.0.0.1:{api_port}"
    result = LoadResult()
    with running_serve(workdir, env, api_port):
        access, api_token = credentials(base_url)
        stop = threading.Event()
        ctx = multiprocessing.get_context("spawn")
        burst_stop, written, failed = ctx.Event(), ctx.Value("i", 0), ctx.Value("i", 0)
        url = env["CALLROUTER_DATABASE_URL"]
        burst = ctx.Process(target=call_burst, args=(url, burst_stop, written, failed))
        burst.start()
        deadline = time.monotonic() + 120
        while written.value == 0 and failed.value == 0 and time.monotonic() < deadline:
            time.sleep(0.1)  # the calls are being written before the clients start
        importer = threading.Thread(target=_import_loop, args=(env, workdir, files, stop, result))
        importer.start()
        lock = threading.Lock()
        started = time.perf_counter()
        workers = [
            threading.Thread(
                target=_client_work, args=(base_url, access, api_token, n, requests, result, lock)
            )
            for n in range(clients)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        result.seconds = time.perf_counter() - started
        stop.set()
        burst_stop.set()
        importer.join()
        burst.join(timeout=60)
        result.calls_written, result.calls_failed = written.value, failed.value
    log = (workdir / "serve.log").read_text(errors="replace").splitlines()
    bad = [line for line in log if "locked" in line or '"level": "error"' in line]
    result.locked_log_lines = sum("locked" in line for line in bad)
    result.error_log_lines = sum('"level": "error"' in line for line in bad)
    result.log_samples = [line[:600] for line in bad[:3]]
    return result


def report(result: LoadResult, clients: int) -> str:
    lat = sorted(result.latencies_ms)
    pct = statistics.quantiles(lat, n=100) if len(lat) > 1 else [0.0] * 99
    lines = [
        f"clients {clients}, requests {result.requests} in {result.seconds:.1f} s "
        f"({result.requests / max(result.seconds, 1e-9):.0f} req/s)",
        f"errors {result.error_count}: {dict(result.errors) or 'none'}",
        f"latency ms p50 {pct[49]:.0f}  p95 {pct[94]:.0f}  p99 {pct[98]:.0f}  max {lat[-1]:.0f}",
        f"imports ok {result.imports_ok} failed {result.imports_failed}; "
        f"calls written {result.calls_written} failed {result.calls_failed}",
        f"server log: {result.locked_log_lines} lines mention 'locked', {result.error_log_lines} errors",
    ]
    lines += [f"  sample: {s}" for s in result.samples[:5]]
    lines += [f"  import error: {e}" for e in result.import_errors[:2]]
    lines += [f"  server log: {line}" for line in result.log_samples]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_load(Path(tmp), clients=args.clients, requests=args.requests, rows=args.rows)
    print(report(result, args.clients))
    raise SystemExit(1 if result.error_count or result.imports_failed or result.calls_failed else 0)


if __name__ == "__main__":
    main()
