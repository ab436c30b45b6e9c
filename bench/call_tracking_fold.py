"""Translate + fold rate of call tracking (pure, one core) and the persisting sink on SQLite and PostgreSQL.

Usage: .venv/bin/python -m bench.call_tracking_fold [calls] [--sink-calls N] [--concurrent C]
       [--batch B ...] [--backend sqlite|postgres ...] [--no-before] [--writers K ...]

* translate + fold: ``calls`` calls re-numbered from the real traces (default 20000), in memory.
* the sink, before and after: ``--sink-calls`` calls (default 1300) with ``--concurrent`` calls in progress
  at once (their events interleaved, default 100), handed to ``CallTrackingSink`` one event per
  ``handle`` (one commit per state-changing event, the path before batching) and in batches of ``--batch``
  events per ``handle_batch`` (one commit per batch). Printed per backend: AMI events/s (all tracked
  events), state-changing events/s, commits/s, statements per call by kind, p50/p99 latency per batch.
* ``--writers K``: K processes, one PBX each (own Linkedids and client numbers), writing the same calls at
  once into one PostgreSQL database in batches: how many PBXs one database absorbs.
* events per call of each real trace (all AMI events, those call tracking gets, the state-changing ones).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

from bench.databases import Backend, throwaway_database
from crm_core.db import make_engine, make_session_factory
from crm_core.metrics import Metrics
from crm_core.models.calls import CallRecord
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.link import CALL_TRACKING_EVENTS
from pbx_bridge.ami.parser import parse_messages
from pbx_bridge.ami.translate import AmiTranslator
from routing.call_state import CallTracker

TRACES = Path(__file__).resolve().parents[1] / "tests" / "asterisk-traces"
NAMES = ["a", "b", "c", "d", "f", "g", "h", "i", "l", "m", "sip/s1", "sip/s2", "sip/s6"]
IDS = ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid")
Frame = dict[str, str]


def _traces() -> list[list[Frame]]:
    return [[m for m in parse_messages((TRACES / f"{n}.ami").read_bytes()) if "Event" in m] for n in NAMES]


def _renumbered(frames: list[Frame], copy: int) -> list[Frame]:
    out = []
    for f in frames:
        g = dict(f)
        for k in IDS:
            if k in g and g[k][:1].isdigit():
                g[k] = f"{g[k]}{copy:06d}"
        out.append(g)
    return out


def _copies(calls: int) -> Iterator[list[Frame]]:
    """Trace runs (one trace, re-numbered) until ``calls`` traces were produced."""
    traces = _traces()
    copy = 0
    while copy * len(NAMES) < calls:
        for frames in traces:
            yield _renumbered(frames, copy)
        copy += 1


def stream(calls: int) -> list[Frame]:
    """``calls`` calls re-numbered from the real traces (each copy gets its own ids), one after another."""
    return [f for run in _copies(calls) for f in run]


def interleaved(calls: int, concurrent: int) -> list[Frame]:
    """The same calls, ``concurrent`` traces in progress at once (round-robin, each trace's order kept),
    only the events the AMI client hands to call tracking."""
    runs = [[f for f in run if f.get("Event") in CALL_TRACKING_EVENTS] for run in _copies(calls)]
    out: list[Frame] = []
    for start in range(0, len(runs), concurrent):
        group = runs[start : start + concurrent]
        for step in range(max(len(r) for r in group)):
            out.extend(r[step] for r in group if step < len(r))
    return out


def events_per_call() -> list[tuple[str, int, int, int, int]]:
    """Per real trace (then summed over the ``Local/`` ones and the ``sip/`` ones): AMI events, those call
    tracking receives, those that change a call's state, and the calls the trace holds."""
    rows = []
    for name, frames in zip(NAMES, _traces(), strict=True):
        tracked = [f for f in frames if f.get("Event") in CALL_TRACKING_EVENTS]
        rows.append((name, len(frames), len(tracked), state_changing(tracked), fold_rate(frames)[1]))
    for group, sip in (("Local/ traces", False), ("sip/ traces", True)):
        picked = [r for r in rows if r[0].startswith("sip/") is sip]
        events, tracked, changing, calls = (sum(r[i] for r in picked) for i in (1, 2, 3, 4))
        rows.append((group, events, tracked, changing, calls))
    return rows


def fold_rate(frames: list[Frame]) -> tuple[float, int]:
    translator, tracker = AmiTranslator(Metrics()), CallTracker()
    finished = 0
    start = time.perf_counter()
    for f in frames:
        for e in translator.translate("main", f):
            if tracker.apply(e).finished is not None:
                finished += 1
    return len(frames) / (time.perf_counter() - start), finished


def state_changing(frames: list[Frame]) -> int:
    """How many frames change some call's state (what a per-event sink commits once each)."""
    translator, tracker = AmiTranslator(Metrics()), CallTracker()
    return sum(any([tracker.apply(e).changed for e in translator.translate("main", f)]) for f in frames)


class StatementCounter:
    """Statements and commits an engine sends, by first SQL word."""

    def __init__(self, engine: Engine) -> None:
        self.kinds: Counter[str] = Counter()
        self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        self.kinds[sql.lstrip().split(None, 1)[0].upper()] += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += 1


@dataclass(frozen=True)
class SinkRun:
    events: int
    changing: int
    calls: int
    seconds: float
    cpu_seconds: float
    commits: int
    statements: Counter[str]
    latencies: list[float]
    bytes_per_call: float | None = None

    def line(self, label: str) -> str:
        per_call = ", ".join(f"{k} {n / self.calls:.1f}" for k, n in sorted(self.statements.items()))
        lat = sorted(self.latencies)
        p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return (
            f"{label}: {self.events / self.seconds:,.0f} events/s "
            f"({self.events / self.cpu_seconds:,.0f} per CPU second of this process), "
            f"{self.changing / self.seconds:,.0f} state-changing events/s, "
            f"{self.commits / self.seconds:,.0f} commits/s, {self.calls / self.seconds:,.0f} calls/s; "
            f"per call: {sum(self.statements.values()) / self.calls:.1f} statements ({per_call}), "
            f"{self.commits / self.calls:.2f} commits; per handle call p50 {p50 * 1000:.2f} ms, "
            f"p99 {p99 * 1000:.2f} ms"
            + (f"; {self.bytes_per_call:,.0f} bytes per call on disk" if self.bytes_per_call else "")
        )


async def sink_run(frames: list[Frame], backend: Backend, batch: int, changing: int) -> SinkRun:
    """Feed ``frames`` to a fresh sink: ``batch`` 0 = one ``handle`` per event, else ``handle_batch``."""
    with throwaway_database(backend, migrate=True) as url:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        sink = CallTrackingSink(sessions, Metrics())
        await sink.reconcile("main", [])  # load the (empty) state before the clock starts
        counter = StatementCounter(engine)
        latencies: list[float] = []
        cpu, start = time.process_time(), time.perf_counter()
        if batch == 0:
            for f in frames:
                began = time.perf_counter()
                await sink.handle("main", f)
                latencies.append(time.perf_counter() - began)
        else:
            for i in range(0, len(frames), batch):
                began = time.perf_counter()
                failed = await sink.handle_batch("main", frames[i : i + batch])
                latencies.append(time.perf_counter() - began)
                assert failed == 0, f"{failed} events not persisted"
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        with sessions() as s:
            calls = s.scalar(select(func.count()).select_from(CallRecord)) or 0
            size = _stored_bytes(s) if backend == "postgres" else None
        engine.dispose()
    per_call = size / calls if size and calls else None
    return SinkRun(
        len(frames), changing, calls, seconds, cpu, counter.commits, counter.kinds, latencies, per_call
    )


def _stored_bytes(session: Session) -> int:
    """PostgreSQL: bytes of the call records, their legs and missed calls, indexes included."""
    tables = ("call_records", "call_legs", "missed_calls")
    return sum(int(session.scalar(text(f"SELECT pg_total_relation_size('{t}')")) or 0) for t in tables)


def _own_numbers(frames: list[Frame], writer: int) -> list[Frame]:
    """The frames with the outside numbers moved to a range of this writer's own (+7900... -> +790N...),
    so the PBXs of a multi-writer run share no client (no lock waits on the same missed calls)."""
    prefix = f"+790{writer}"
    return [{k: prefix + v[5:] if v.startswith("+7900") else v for k, v in f.items()} for f in frames]


def _writer(url: str, pbx: str, frames: list[Frame], batch: int, start: Any, out: Any) -> None:
    """One PBX's writer process of :func:`writers_run`: waits for ``start``, puts its seconds on ``out``."""

    async def run() -> float:
        engine = make_engine(url)
        sink = CallTrackingSink(make_session_factory(engine), Metrics())
        await sink.reconcile(pbx, [])
        start.wait()
        began = time.perf_counter()
        for i in range(0, len(frames), batch):
            assert await sink.handle_batch(pbx, frames[i : i + batch]) == 0
        seconds = time.perf_counter() - began
        engine.dispose()
        return seconds

    out.put(asyncio.run(run()))


def writers_run(frames: list[Frame], writers: int, batch: int) -> str:
    """``writers`` processes, one PBX each, writing ``frames`` at once into one PostgreSQL database."""
    ctx = multiprocessing.get_context("fork")
    with throwaway_database("postgres", migrate=True) as url:
        start, out = ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(target=_writer, args=(url, f"pbx{i}", _own_numbers(frames, i), batch, start, out))
            for i in range(writers)
        ]
        for proc in procs:
            proc.start()
        time.sleep(2.0)  # every writer has loaded its (empty) state
        start.set()
        seconds = [out.get(timeout=3600) for _ in procs]
        for proc in procs:
            proc.join()
    events = len(frames) * writers
    return (
        f"sink postgres, {writers} PBX writers at once, batches of {batch}: "
        f"{events / max(seconds):,.0f} events/s together (slowest writer {max(seconds):.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("calls", type=int, nargs="?", default=20000)
    parser.add_argument("--sink-calls", type=int, default=1300)
    parser.add_argument("--concurrent", type=int, default=100)
    parser.add_argument("--batch", type=int, action="append", help="events per batch (repeatable)")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--no-before", action="store_true", help="skip the one-commit-per-event run")
    parser.add_argument("--writers", type=int, nargs="*", default=[], help="PBX writer processes at once")
    args = parser.parse_args()
    for name, events, tracked, changing, calls in events_per_call():
        print(
            f"events per call, {name}: {events / calls:.1f} AMI events, {tracked / calls:.1f} to call "
            f"tracking, {changing / calls:.1f} state-changing ({calls} calls)"
        )
    frames = stream(args.calls)
    rate, finished = fold_rate(frames)
    print(f"translate+fold: {len(frames)} events, {finished} calls finished, {rate:,.0f} events/s")
    sink_frames = interleaved(args.sink_calls, args.concurrent)
    changing = state_changing(sink_frames)
    print(
        f"sink input: {args.sink_calls} calls, {args.concurrent} in progress at once, "
        f"{len(sink_frames)} tracked events, {changing} of them state-changing"
    )
    for backend in args.backend or ["sqlite", "postgres"]:
        batches = [0] if not args.no_before else []
        for batch in batches + (args.batch or [100, 500, 2000]):
            run = asyncio.run(sink_run(sink_frames, backend, batch, changing))
            label = "commit per event (before)" if batch == 0 else f"batches of {batch}"
            print(run.line(f"sink {backend}, {label}"))
    for writers in args.writers:
        print(writers_run(sink_frames, writers, max(args.batch or [2000])))


if __name__ == "__main__":
    main()
