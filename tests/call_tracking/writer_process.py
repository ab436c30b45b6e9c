"""One call-tracking writer process for the crash test: the AMI client and the persisting sink.

Usage: ``python -m tests.call_tracking.writer_process DB_URL PORT``. It logs in to the stand-in on PORT,
prints ``READY`` and writes what it reads until it is killed; after a lost link it waits a minute before
reconnecting, so the test decides when the next session starts.
"""

from __future__ import annotations

import asyncio
import sys

from crm_core.db import make_engine, make_session_factory
from crm_core.metrics import Metrics
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.client import AmiClient
from tests.ami.helpers import fast_config
from tests.call_tracking.tcp_replay import STEADY


async def main(db_url: str, port: int) -> None:
    sessions = make_session_factory(make_engine(db_url))
    metrics = Metrics()
    config = fast_config(port, **{**STEADY, "backoff_initial": 60.0, "backoff_max": 60.0})
    client = AmiClient(config, CallTrackingSink(sessions, metrics), metrics)
    await client.start()
    print("READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
