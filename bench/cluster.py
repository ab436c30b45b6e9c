"""Failover of a PBX's AMI leader across ``callrouter serve`` processes: takeover time, records/s, duplicates.

    .venv/bin/python -m bench.cluster [--runs 2] [--instances 3] [--calls 30] [--no-drain]

Per run: a throw-away PostgreSQL database, Redis, ``--instances`` serve processes and two AMI stand-ins
replaying ``--calls`` overlapping calls each (relabelled real traces); the leader of PBX ``main`` is stopped
with ``kill -9`` or ``SIGSTOP`` half-way through (the scenario of ``tests/cluster``, see
``tests/cluster/harness.py``). Takeover: from the signal to the new leader's event session on the stand-in
(its login; the snapshot follows on that session). ``--no-drain`` stops the leader while it still has
events read but not committed (they die with it): "wrong" then counts calls classified differently from an
uninterrupted run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
from pathlib import Path

from tests.cluster.harness import Outcome, run_failover

TRACES = Path(__file__).resolve().parents[1] / "tests" / "asterisk-traces"
PG_ADMIN = os.environ.get(
    "CALLROUTER_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("CALLROUTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def line(kind: str, drain: bool, outcome: Outcome) -> str:
    return (
        f"{kind:8} {'drained' if drain else 'in-flight':9} takeover {outcome.takeover_s:5.2f} s  "
        f"records/s {outcome.records_per_s:5.1f}  AMI events/s {outcome.events_per_s:6.0f}  "
        f"calls {len(outcome.expected)}  lost {outcome.lost}  "
        f"duplicate records {outcome.duplicate_records}  wrong {len(outcome.wrong)}  "
        f"duplicate notifications {outcome.duplicate_notifications}  "
        f"duplicate live events {outcome.live.duplicates()}"
    )


async def main(args: argparse.Namespace) -> None:
    drains = [True, False] if args.no_drain else [True]
    for _ in range(args.runs):
        for stop_signal, kind in ((signal.SIGKILL, "kill -9"), (signal.SIGSTOP, "SIGSTOP")):
            for drain in drains:
                with tempfile.TemporaryDirectory() as workdir:
                    outcome = await run_failover(
                        TRACES,
                        Path(workdir),
                        args.pg_admin_url,
                        args.redis_url,
                        stop_signal,
                        calls=args.calls,
                        instances=args.instances,
                        drain=drain,
                    )
                print(line(kind, drain, outcome), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--calls", type=int, default=30, help="calls per PBX")
    parser.add_argument("--no-drain", action="store_true", help="also stop the leader with events in flight")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument("--redis-url", default=REDIS)
    asyncio.run(main(parser.parse_args()))
