"""Real ``callrouter`` processes for benchmarks and end-to-end tests: environment, CLI runs, ``serve``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def callrouter_command(*args: str) -> list[str]:
    """The ``callrouter`` command line run by this interpreter."""
    return [sys.executable, "-c", "from callrouter.cli import main; main()", *args]


def serve_env(workdir: Path, api_port: int, agi_port: int, database_url: str | None = None) -> dict[str, str]:
    """A development environment (no outside ``CALLROUTER_*`` settings) on a SQLite file in ``workdir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLROUTER_")}
    env.update(
        CALLROUTER_ENV="development",
        CALLROUTER_DATABASE_URL=database_url or f"sqlite:///{workdir / 'callrouter.db'}",
        CALLROUTER_API_BIND=f"127.0.0.1:{api_port}",
        CALLROUTER_AGI_BIND=f"127.0.0.1:{agi_port}",
    )
    return env


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``callrouter *args``; raises with its stderr when it fails."""
    done = subprocess.run(callrouter_command(*args), env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"callrouter {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


@contextmanager
def running_serve(
    workdir: Path, env: dict[str, str], api_port: int, timeout_s: float = 90
) -> Iterator[subprocess.Popen[str]]:
    """``callrouter serve``, up (``/health`` answers) until the block ends; stderr: ``workdir/serve.log``."""
    log_path = workdir / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(callrouter_command("serve"), env=env, cwd=workdir, stderr=log, text=True)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=2)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("serve did not start: " + log_path.read_text()) from None
                    time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
