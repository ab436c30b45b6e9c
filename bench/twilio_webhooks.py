"""Twilio voice webhooks in-process: signed requests through the real app, per-webhook latency.

Run: ``.venv/bin/python -m bench.twilio_webhooks [--calls 500] [--clients 2000] [--postgres]``.

Seeds a throw-away database (SQLite file, or PostgreSQL with ``--postgres``), builds the real FastAPI app
with a started routing service, and plays each call as Twilio would (signatures computed with the official
library): ``/twilio/voice`` -> ``/step`` no-answer -> ``/step`` completed -> ``/status``, one call at a time
over an in-process ASGI transport (no network). Prints p50/p99/max per webhook and the routing deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import httpx
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from bench.databases import throwaway_database
from callrouter.api.app import create_app
from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.models import Counterparty, Manager, PhoneNumber

BASE = "https://callrouter.example.com"
TOKEN = "bench-token-0123456789abcdef"


def seed(settings: Settings, clients: int) -> list[str]:
    container = build_container(settings)
    numbers = [f"+7900{n:07d}" for n in range(clients)]
    with container.sessions() as s, s.begin():
        managers = [Manager(name=f"M{i}", login=f"m{i}", dial_target=f"PJSIP/{100 + i}") for i in range(50)]
        s.add_all(managers)
        s.flush()
        for i, e164 in enumerate(numbers):
            cp = Counterparty(name=f"C{i}", manager_id=managers[i % 50].id)
            s.add(cp)
            s.flush()
            s.add(PhoneNumber(e164=e164, counterparty_id=cp.id))
    container.close()
    return numbers


async def play(settings: Settings, numbers: list[str], calls: int) -> dict[str, list[float]]:
    container = build_container(settings)
    assert container.routing is not None
    await container.routing.start()
    validator = RequestValidator(TOKEN)
    times: dict[str, list[float]] = {"voice": [], "step": [], "status": []}
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def post(kind: str, path: str, form: dict[str, str]) -> None:
            headers = {"X-Twilio-Signature": validator.compute_signature(BASE + path, form)}
            started = time.perf_counter()
            response = await client.post(path, data=form, headers=headers)
            times[kind].append(time.perf_counter() - started)
            assert response.status_code == 200, response.text

        for n in range(calls):
            form = {
                "CallSid": f"CA{uuid.uuid4().hex}",
                "From": numbers[n % len(numbers)],
                "To": "+74950001122",
            }
            await post("voice", "/twilio/voice", {**form, "CallStatus": "ringing"})
            await post("step", "/twilio/voice/step?i=0", {**form, "DialCallStatus": "no-answer"})
            step = {**form, "DialCallStatus": "completed", "DialCallDuration": "30"}
            await post("step", "/twilio/voice/step?i=1", step)
            await post("status", "/twilio/voice/status", {**form, "CallStatus": "completed"})
    await container.aclose()
    container.close()
    return times


def report(times: dict[str, list[float]], deadline_ms: int) -> None:
    for kind, values in times.items():
        ms = sorted(v * 1000 for v in values)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(
            f"  {kind:7s} n={len(ms):5d}  p50={statistics.median(ms):6.2f} ms  p99={p99:6.2f} ms  "
            f"max={ms[-1]:6.2f} ms  (deadline {deadline_ms} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with throwaway_database("postgres" if args.postgres else "sqlite", migrate=True) as url:
        settings = Settings(
            env="development",
            database_url=url,
            twilio_auth_token=SecretStr(TOKEN),
            twilio_webhook_base_url=BASE,
            twilio_sip_domain="pbx.example.com",
        )
        numbers = seed(settings, args.clients)
        print(f"{'postgresql' if args.postgres else 'sqlite'}: {args.calls} calls, {args.clients} clients")
        report(asyncio.run(play(settings, numbers, args.calls)), settings.agi_deadline_ms)


if __name__ == "__main__":
    main()
