"""Translate + fold rate of call tracking (pure, one core) and the persisting sink on SQLite and PostgreSQL.

Usage: .venv/bin/python -m bench.call_tracking_fold [calls]   (default 20000 calls made from the real traces)
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from bench.databases import Backend, throwaway_database
from crm_core.db import make_engine, make_session_factory
from crm_core.metrics import Metrics
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.parser import parse_messages
from pbx_bridge.ami.translate import AmiTranslator
from routing.call_state import CallTracker

TRACES = Path(__file__).resolve().parents[1] / "tests" / "asterisk-traces"
NAMES = ["a", "b", "c", "d", "f", "g", "h", "i", "l", "m", "sip/s1", "sip/s2", "sip/s6"]
IDS = ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid")


def stream(calls: int) -> list[dict[str, str]]:
    """``calls`` calls re-numbered from the real traces (each copy gets its own ids)."""
    traces = [[m for m in parse_messages((TRACES / f"{n}.ami").read_bytes()) if "Event" in m] for n in NAMES]
    out: list[dict[str, str]] = []
    copy = 0
    while copy * len(NAMES) < calls:
        for frames in traces:
            for f in frames:
                g = dict(f)
                for k in IDS:
                    if k in g and g[k][:1].isdigit():
                        g[k] = f"{g[k]}{copy:06d}"
                out.append(g)
        copy += 1
    return out


def fold_rate(frames: list[dict[str, str]]) -> tuple[float, int]:
    translator, tracker = AmiTranslator(Metrics()), CallTracker()
    finished = 0
    start = time.perf_counter()
    for f in frames:
        for event in translator.translate("main", f):
            if tracker.apply(event).finished is not None:
                finished += 1
    return len(frames) / (time.perf_counter() - start), finished


async def sink_rate(frames: list[dict[str, str]], backend: Backend) -> float:
    with throwaway_database(backend, migrate=True) as url:
        engine = make_engine(url)
        sink = CallTrackingSink(make_session_factory(engine), Metrics())
        start = time.perf_counter()
        for f in frames:
            await sink.handle("main", f)
        rate = len(frames) / (time.perf_counter() - start)
        engine.dispose()
        return rate


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    frames = stream(calls)
    rate, finished = fold_rate(frames)
    print(f"translate+fold: {len(frames)} events, {finished} calls finished, {rate:,.0f} events/s")
    small = stream(130)
    for backend in ("sqlite", "postgres"):
        rate = asyncio.run(sink_rate(small, backend))
        print(f"sink ({backend}, commit per state-changing event): {rate:,.0f} events/s")


if __name__ == "__main__":
    main()
