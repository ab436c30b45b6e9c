"""Several real ``callrouter serve`` processes on one PostgreSQL + Redis, AMI stand-ins replaying a burst,
and the failover of one PBX's leader (``kill -9`` or ``SIGSTOP``) in the middle of it.

Used by ``tests/cluster`` (assertions) and ``bench/cluster.py`` (figures). The stand-ins run in the caller's
event loop in ``broadcast`` mode (every event session gets every event, as with Asterisk). When the leader is
killed or frozen the PBX's replay pauses until the new leader has logged in (its snapshot is then taken
exactly where the stream resumes): calls begun and ended while nobody listened would otherwise be invisible
to any AMI consumer, which no election can change.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bench.serve_process import callrouter_command, free_port
from crm_core.db import make_engine
from crm_core.models import CallRecord, Manager, ManagerRole, MissedCall
from crm_core.models.escalation import DeliveryStatus, EscalationStep, NotificationDelivery, StepStatus
from crm_core.services.escalation import PolicyStep, set_policy
from tests.ami.standin import AmiStandIn
from tests.cluster.burst import Expected, burst, dial_targets, expected_calls
from tests.conftest import migrated_pg_database
from tests.escalation.http_recorder import Script, http_recorder

PBXS = ("main", "second")
LEASE_TTL_S = 3.0
MAIN_LEADER_GAUGE = 'callrouter_ami_leader{pbx="main"}'


@dataclass
class Instance:
    """One ``callrouter serve`` process."""

    name: str
    process: subprocess.Popen[bytes]
    api_port: int
    log: Path

    async def ready(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            body: dict[str, Any] = (await client.get(f"http://127.0.0.1:{self.api_port}/ready")).json()
            return body

    async def leads(self) -> list[str]:
        try:
            return list((await self.ready())["checks"].get("ami_leader", []))
        except (httpx.HTTPError, ValueError, KeyError):
            return []

    async def metric(self, line_start: str) -> float:
        async with httpx.AsyncClient(timeout=5) as client:
            body = (await client.get(f"http://127.0.0.1:{self.api_port}/metrics")).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(line_start))


@dataclass
class LiveEvents:
    """Every live event published through Redis during the run (the id is left out: a duplicate publish
    of one event has the same body)."""

    bodies: list[str] = field(default_factory=list)

    def duplicates(self) -> int:
        return sum(n - 1 for n in collections.Counter(self.bodies).values() if n > 1)

    def named(self, name: str) -> int:
        return sum(json.loads(b)["name"] == name for b in self.bodies)


@dataclass
class Outcome:
    """What a failover run produced."""

    takeover_s: float
    records_per_s: float  # over the burst, the pause around the takeover left out
    events_per_s: float
    expected: dict[tuple[str, str], Expected]
    recorded: dict[tuple[str, str], list[Expected]]
    deliveries: collections.Counter[tuple[int, int | None, str]]
    webhook_sends: collections.Counter[str]
    missed_calls: int
    live: LiveEvents
    leader_gauges: list[float] = field(default_factory=list)  # callrouter_ami_leader{pbx="main"} per instance
    old_leader_gauge_after_resume: float | None = None
    old_leader_leads_after_resume: list[str] | None = None
    fenced_writes_of_old_leader: float | None = None
    event_sessions_after_resume: int | None = None

    @property
    def lost(self) -> int:
        return sum(key not in self.recorded for key in self.expected)

    @property
    def duplicate_records(self) -> int:
        return sum(len(v) - 1 for v in self.recorded.values() if len(v) > 1)

    @property
    def wrong(self) -> list[tuple[str, str]]:
        return [k for k, v in self.recorded.items() if k in self.expected and v[0] != self.expected[k]]

    @property
    def duplicate_notifications(self) -> int:
        doubled = sum(n - 1 for n in self.deliveries.values() if n > 1)
        return doubled + sum(n - 1 for n in self.webhook_sends.values() if n > 1)


def seed(url: str, messages: list[bytes]) -> None:
    """Managers for every agent the burst rings (screen pops), a director, and a policy: director, at once,
    in-app and webhook."""
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        targets = sorted(t for t in dial_targets(messages) if "trunk" not in t and "pstn" not in t)
        for n, target in enumerate(targets):
            session.add(Manager(name=f"Agent {n}", login=f"agent{n}", dial_target=target))
        session.add(
            Manager(name="Director", login="director", role=ManagerRole.DIRECTOR, email="d@example.com")
        )
        set_policy(session, [PolicyStep(0, ("director",), ("inapp", "webhook"))])
    engine.dispose()


def _env(db_url: str, redis_url: str, prefix: str, ports: dict[str, int], webhook: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLROUTER_")}
    extra = [
        {
            "name": "second",
            "host": "127.0.0.1",
            "port": ports["second"],
            "username": "bridge",
            "secret": "bridge-secret",
        }
    ]
    env.update(
        CALLROUTER_ENV="development",
        CALLROUTER_DATABASE_URL=db_url,
        CALLROUTER_REDIS_URL=redis_url,
        CALLROUTER_REDIS_KEY_PREFIX=prefix,
        CALLROUTER_PBX_NAME="main",
        CALLROUTER_AMI_HOST="127.0.0.1",
        CALLROUTER_AMI_PORT=str(ports["main"]),
        CALLROUTER_AMI_USERNAME="bridge",
        CALLROUTER_AMI_SECRET="bridge-secret",
        CALLROUTER_AMI_EXTRA_PBXS=json.dumps(extra),
        CALLROUTER_AMI_LEASE_TTL_S=str(LEASE_TTL_S),
        CALLROUTER_ESCALATION_POLL_INTERVAL_S="0.2",
        CALLROUTER_NOTIFY_WEBHOOK_URL=webhook,
        CALLROUTER_NOTIFY_WEBHOOK_SECRET="cluster-secret",
        CALLROUTER_LOG_LEVEL="WARNING",
    )
    return env


async def _start(workdir: Path, name: str, env: dict[str, str]) -> Instance:
    api = free_port()
    env = {
        **env,
        "CALLROUTER_API_BIND": f"127.0.0.1:{api}",
        "CALLROUTER_AGI_BIND": f"127.0.0.1:{free_port()}",
    }
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(callrouter_command("serve"), env=env, cwd=workdir, stdout=out, stderr=out)
    return Instance(name, process, api, log)


async def _wait_up(instance: Instance, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await instance.ready()
            return
        except httpx.HTTPError:
            if instance.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{instance.name} did not start: {instance.log.read_text()[-3000:]}"
                ) from None
            await asyncio.sleep(0.2)


async def wait_for(predicate: Any, timeout: float, what: str, step: float = 0.05) -> float:
    """Poll the async ``predicate`` until true; seconds it took (fails after ``timeout``)."""
    started = time.monotonic()
    while not await predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(step)
    return time.monotonic() - started


@asynccontextmanager
async def _listening(redis_url: str, channel: str, live: LiveEvents) -> AsyncIterator[None]:
    client = redis.asyncio.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)

    async def collect() -> None:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                live.bodies.append(message["data"].decode().partition(" ")[2])

    task = asyncio.create_task(collect())
    try:
        yield
    finally:
        await asyncio.sleep(0.5)  # the last publications on their way
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pubsub.aclose()
        await client.aclose()


def _recorded(engine: Engine) -> dict[tuple[str, str], list[Expected]]:
    out: dict[tuple[str, str], list[Expected]] = {}
    with Session(engine) as session:
        rows = session.execute(
            select(CallRecord, MissedCall.reason).outerjoin(
                MissedCall, MissedCall.call_record_id == CallRecord.id
            )
        )
        for record, reason in rows:
            got = Expected(record.direction.value, record.disposition.value, reason.value if reason else None)
            out.setdefault((record.pbx_system, record.linkedid), []).append(got)
    return out


def _outstanding(engine: Engine) -> int:
    with Session(engine) as session:
        steps = session.scalar(select(func.count()).where(EscalationStep.status == StepStatus.PENDING))
        sends = session.scalar(
            select(func.count()).where(NotificationDelivery.status == DeliveryStatus.PENDING)
        )
        return int(steps or 0) + int(sends or 0)


def _deliveries(engine: Engine) -> collections.Counter[tuple[int, int | None, str]]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                NotificationDelivery.missed_call_id,
                NotificationDelivery.recipient_manager_id,
                NotificationDelivery.channel,
            ).where(NotificationDelivery.status == DeliveryStatus.SENT)
        )
        return collections.Counter((m, r, c) for m, r, c in rows)


async def run_failover(
    traces_dir: Path,
    workdir: Path,
    admin_url: str,
    redis_url: str,
    stop_signal: signal.Signals,
    *,
    calls: int = 30,
    instances: int = 3,
    message_delay: float = 0.001,
    drain: bool = True,
) -> Outcome:
    """Run the whole scenario (see the module docstring) and report what the database and Redis saw.

    ``drain``: stop the leader only once it has handled every event it read (calls are still in progress,
    nothing is in flight). Without it, the events the leader had read but not yet committed die with it:
    Asterisk sends nobody those again, the new leader's snapshot repairs the channels but not what only
    those events said (who hung up first), so a call can be classified differently.
    """
    messages = {pbx: burst(traces_dir, calls, i + 1) for i, pbx in enumerate(PBXS)}
    expected = {(pbx, lid): e for pbx, msgs in messages.items() for lid, e in expected_calls(msgs).items()}
    script = Script(statuses=[200])
    live = LiveEvents()
    prefix = f"cluster{os.getpid()}{uuid.uuid4().hex[:6]}:"
    standins = {pbx: AmiStandIn(messages=msgs) for pbx, msgs in messages.items()}
    started: list[Instance] = []
    recorder: AbstractContextManager[str] = http_recorder(script)
    with migrated_pg_database(admin_url, "callrouter_cluster") as db_url, recorder as webhook:
        seed(db_url, messages["main"] + messages["second"])
        engine = make_engine(db_url)
        try:
            for standin in standins.values():
                standin.broadcast, standin.message_delay = True, message_delay
                standin.stall()
                await standin.start()
            ports = {pbx: s.port for pbx, s in standins.items()}
            env = _env(db_url, redis_url, prefix, ports, webhook)
            async with _listening(redis_url, f"{prefix}live-events", live):
                started += [await _start(workdir, f"serve{n}", env) for n in range(instances)]
                await asyncio.gather(*(_wait_up(i) for i in started))

                async def one_leader_each() -> bool:
                    leads = [p for i in started for p in await i.leads()]
                    return sorted(leads) == sorted(PBXS) and all(
                        len(s.event_sessions()) == 1 and s.action_only_logins >= instances
                        for s in standins.values()
                    )

                await wait_for(one_leader_each, 30, "one leader per PBX")
                main = standins["main"]
                leads = {i.name: await i.leads() for i in started}
                leader = next(i for i in started if "main" in leads[i.name])
                victims = [standins[pbx] for pbx in leads[leader.name]]  # it may lead both PBXs
                gauges = [await i.metric(MAIN_LEADER_GAUGE) for i in started]
                began = time.monotonic()
                for standin in standins.values():
                    standin.resume()
                await wait_for(_now(lambda: main.position >= len(main.messages) // 2), 60, "half the burst")
                stalled = time.monotonic()
                for standin in victims:
                    standin.stall()
                if drain:
                    await wait_for(_drained(leader), 30, "the leader has handled what it read")
                old_sessions = {id(s): s.event_sessions()[0] for s in victims}
                os.kill(leader.process.pid, stop_signal)

                async def new_leaders() -> bool:
                    return all(any(w is not old_sessions[id(s)] for w in s.event_sessions()) for s in victims)

                takeover = await wait_for(new_leaders, 20, "standbys take over", step=0.01)
                for standin in victims:
                    standin.resume()
                paused = time.monotonic() - stalled
                settled = {"count": -1, "since": time.monotonic(), "at": time.monotonic()}

                async def all_recorded() -> bool:
                    """Every expected call recorded; or, with events in flight lost (``drain`` off), no new
                    record for 3 s."""
                    done = all(s.position >= len(s.messages) for s in standins.values())
                    count = len(await asyncio.to_thread(_recorded, engine))
                    if count != settled["count"]:
                        settled.update(count=count, since=time.monotonic(), at=time.monotonic())
                    quiet = not drain and time.monotonic() - settled["since"] >= 3.0
                    return done and (count >= len(expected) or quiet)

                await wait_for(all_recorded, 90, "every call recorded", step=0.2)
                elapsed = settled["at"] - began - paused
                await wait_for(_async(lambda: _outstanding(engine) == 0), 30, "notifications sent", step=0.2)
                outcome = Outcome(
                    takeover_s=takeover,
                    records_per_s=len(expected) / elapsed,
                    events_per_s=sum(len(m) for m in messages.values()) / elapsed,
                    expected=expected,
                    recorded={},
                    deliveries=collections.Counter(),
                    webhook_sends=collections.Counter(),
                    missed_calls=0,
                    live=live,
                    leader_gauges=gauges,
                )
                if stop_signal == signal.SIGSTOP:
                    os.kill(leader.process.pid, signal.SIGCONT)
                    await wait_for(
                        _now(lambda: len(main.event_sessions()) == 1), 10, "the old session closed"
                    )
                    await asyncio.sleep(LEASE_TTL_S)  # time for a wrong write to show up
                    outcome.old_leader_leads_after_resume = await leader.leads()
                    outcome.old_leader_gauge_after_resume = await leader.metric(MAIN_LEADER_GAUGE)
                    outcome.fenced_writes_of_old_leader = await leader.metric(
                        "callrouter_ami_fenced_writes_total"
                    )
                    outcome.event_sessions_after_resume = len(main.event_sessions())
            outcome.recorded = _recorded(engine)
            outcome.deliveries = _deliveries(engine)
            outcome.webhook_sends = collections.Counter(r.headers["Idempotency-Key"] for r in script.requests)
            with Session(engine) as session:
                outcome.missed_calls = int(session.scalar(select(func.count()).select_from(MissedCall)) or 0)
            return outcome
        finally:
            for instance in started:
                if instance.process.poll() is None:
                    instance.process.send_signal(signal.SIGCONT)
                    instance.process.terminate()
            for instance in started:
                try:
                    instance.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    instance.process.kill()
                    instance.process.wait()
            for standin in standins.values():
                await standin.close()
            engine.dispose()


def _drained(instance: Instance, quiet_s: float = 1.0) -> Any:
    """An async predicate: every event link of ``instance`` has an empty queue and has handled no new
    event for ``quiet_s`` (the last one is committed)."""
    seen: dict[str, Any] = {"handled": None, "since": time.monotonic()}

    async def predicate() -> bool:
        links = [link for link in (await instance.ready())["checks"]["ami"] if link.get("leader")]
        handled = [(link["events_handled"], link["queue_depth"]) for link in links]
        if handled != seen["handled"] or any(depth for _h, depth in handled):
            seen.update(handled=handled, since=time.monotonic())
            return False
        return time.monotonic() - seen["since"] >= quiet_s

    return predicate


def _async(check: Any) -> Any:
    """An async predicate running the blocking ``check`` in a thread."""

    async def predicate() -> bool:
        return bool(await asyncio.to_thread(check))

    return predicate


def _now(check: Any) -> Any:
    """An async predicate of the non-blocking ``check``."""

    async def predicate() -> bool:
        return bool(check())

    return predicate
