"""How long a routing change takes to reach the next FastAGI call of every running instance.

Run: ``.venv/bin/python -m bench.routing_propagation`` (``--help``). Per setup (SQLite file, PostgreSQL,
PostgreSQL + Redis): seed a throw-away database as ``bench.agi_burst`` does, start two ``callrouter serve``
instances, then repeatedly reassign a client to another manager, alternately through the first instance's
REST API (``PATCH /api/v1/counterparties/{id}``) and through the ``callrouter import`` CLI, and measure from
the moment the write returned (the API's response, the CLI's exit) to the first FastAGI call that gets the
new manager on *each* instance (calls placed back to back). Reported: median and max over the repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.agi_burst import REDIS_URL, SETUPS, TEMPLATE_CALLER, expected_manager, seeded, serving
from bench.agi_route import MANAGERS, TRACE, number
from pbx_bridge.agi.client import place_request

COUNTERPARTIES, NUMBERS = 13_000, 40_000
PASSWORD = "bench-password-123"


def block(caller: str) -> bytes:
    return (TRACE.read_bytes().split(b"\n\n")[0] + b"\n\n").replace(TEMPLATE_CALLER, caller.encode())


def cli(db_url: str, cwd: str, *args: str, stdin: str | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLROUTER_")}
    env.update(CALLROUTER_ENV="development", CALLROUTER_DATABASE_URL=db_url)
    command = [sys.executable, "-c", "from callrouter.cli import main; main()", *args]
    done = subprocess.run(command, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr)


async def seconds_until_routed(ports: list[int], caller: str, manager_id: int, since: float) -> list[float]:
    """Per instance: seconds from ``since`` to its first call routing ``caller`` to ``manager_id``."""
    found: dict[int, float] = {}
    while len(found) < len(ports):
        for port in ports:
            if port not in found:
                answer = await place_request("127.0.0.1", port, block(caller))
                if answer.variables.get("ROUTE_MANAGER_ID") == str(manager_id):
                    found[port] = time.monotonic() - since
        if time.monotonic() - since > 30:
            raise RuntimeError(f"{caller} not routed to {manager_id} within 30 s")
    return [found[p] for p in ports]


def run_setup(setup: str, repeats: int) -> dict[str, list[float]]:
    delays: dict[str, list[float]] = {"API": [], "CLI import": []}
    with seeded(setup, COUNTERPARTIES, NUMBERS) as db_url, tempfile.TemporaryDirectory() as cwd:
        cli(
            db_url,
            cwd,
            "users",
            "create-admin",
            "--login",
            "admin",
            "--name",
            "Admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        redis_url = REDIS_URL if setup == "postgres+redis" else None
        with serving(db_url, redis_url, None, instances=2) as servers, httpx.Client() as http:
            ports, api = [agi for agi, _api in servers], f"http://127.0.0.1:{servers[0][1]}/api/v1"
            login = http.post(f"{api}/auth/login", json={"login": "admin", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {login['access_token']}"}
            for i in range(repeats):
                n = 1 + i
                counterparty = 1 + n % COUNTERPARTIES
                manager = expected_manager(n, COUNTERPARTIES)
                asyncio.run(seconds_until_routed(ports, number(n), manager, time.monotonic()))  # cached
                new_manager = manager % MANAGERS + 1
                if i % 2 == 0:
                    response = http.patch(
                        f"{api}/counterparties/{counterparty}",
                        json={"manager_id": new_manager},
                        headers=headers,
                    )
                    response.raise_for_status()
                    kind = "API"
                else:
                    path = Path(cwd) / "c.csv"
                    path.write_text(
                        f"name;phones;manager\nCounterparty {counterparty};{number(n)};m{new_manager}\n"
                    )
                    cli(db_url, cwd, "import", str(path))
                    kind = "CLI import"
                delays[kind] += asyncio.run(
                    seconds_until_routed(ports, number(n), new_manager, time.monotonic())
                )
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", nargs="+", choices=SETUPS, default=list(SETUPS))
    parser.add_argument("--repeats", type=int, default=10, help="changes per setup (half API, half CLI)")
    args = parser.parse_args()
    print(f"{'setup':16} {'writer':11} {'changes':>7} {'median ms':>9} {'max ms':>7}  (both instances)")
    for setup in args.setups:
        for kind, values in run_setup(setup, args.repeats).items():
            print(
                f"{setup:16} {kind:11} {len(values) // 2:7d} {statistics.median(values) * 1000:9.0f}"
                f" {max(values) * 1000:7.0f}"
            )


if __name__ == "__main__":
    main()
