"""How long a failed login takes for a login that exists and for one that does not (account enumeration).

Run: ``.venv/bin/python -m bench.login_timing [--rounds 20]``. A real ``callrouter serve`` on a fresh SQLite
database gets ``--rounds`` managers with passwords; each round sends, in turn, a wrong password for an
existing manager, any password for an unknown login, and the right password. Every attempt comes through
127.0.0.1 (configured as the trusted proxy) with its own ``X-Forwarded-For`` address, so the login limits
never answer 429 here. Prints the median and p90 of each kind; the two failures should match.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.serve_process import free_port, run_cli, running_serve, serve_env

ADMIN, ADMIN_PASSWORD = "timing-admin", "timing-admin-password"
PASSWORD = "manager-password-1"
KINDS = ("existing login, wrong password", "unknown login", "existing login, right password")


def _attempt(client: httpx.Client, login: str, password: str, address: str) -> tuple[int, float]:
    started = time.perf_counter()
    response = client.post(
        "/api/v1/auth/login",
        json={"login": login, "password": password},
        headers={"X-Forwarded-For": address},
    )
    return response.status_code, (time.perf_counter() - started) * 1000


def measure(base_url: str, rounds: int) -> dict[str, list[float]]:
    """Milliseconds per attempt, by kind; raises when an attempt gets an unexpected status."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        admin_token = client.post(
            "/api/v1/auth/login",
            json={"login": ADMIN, "password": ADMIN_PASSWORD},
            headers={"X-Forwarded-For": "198.18.0.1"},
        )
        headers = {"Authorization": f"Bearer {admin_token.raise_for_status().json()['access_token']}"}
        for n in range(rounds):
            body = {"name": f"Manager {n}", "login": f"m{n:03d}", "password": PASSWORD}
            client.post("/api/v1/managers", json=body, headers=headers).raise_for_status()
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for n in range(rounds):
            attempts = (
                (f"m{n:03d}", "wrong-password-1", 401),
                (f"ghost{n:03d}", "wrong-password-1", 401),
                (f"m{n:03d}", PASSWORD, 200),
            )
            for k, (kind, (login, password, expected)) in enumerate(zip(KINDS, attempts, strict=True)):
                status, ms = _attempt(client, login, password, f"198.19.{n}.{k + 1}")
                if status != expected:
                    raise RuntimeError(f"{kind}: {status}, expected {expected}")
                times[kind].append(ms)
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        api_port = free_port()
        env = serve_env(workdir, api_port, free_port())
        env.update(CALLROUTER_TRUSTED_PROXIES="127.0.0.1", CALLROUTER_ADMIN_PASSWORD=ADMIN_PASSWORD)
        run_cli(env, workdir, "db", "upgrade")
        run_cli(env, workdir, "users", "create-admin", "--login", ADMIN, "--name", "Timing Admin")
        with running_serve(workdir, env, api_port):
            times = measure(f"http://127.0.0.1:{api_port}", args.rounds)
    for kind, values in times.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{kind:32} median {statistics.median(values):6.1f} ms   p90 {p90:6.1f} ms   (n={len(values)})")


if __name__ == "__main__":
    main()
