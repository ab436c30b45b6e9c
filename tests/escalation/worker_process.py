"""One escalation worker process for the multi-process tests (``python worker_process.py --help``).

It prints ``READY`` once imported and connected, waits for a line on stdin, then works until nothing is
outstanding in the database. With ``--hang`` its webhook prints ``CLAIMED <key>`` and never returns, so
the test can SIGKILL it between "claimed" and "sent".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import make_engine, make_session_factory
from crm_core.models.escalation import DeliveryStatus, EscalationStep, NotificationDelivery, StepStatus
from crm_core.services.escalation import Recipient
from crm_core.services.notification_outbox import OutgoingMessage
from pbx_bridge.notifications.channel import NotificationChannel
from pbx_bridge.notifications.webhook import WebhookChannel
from pbx_bridge.notifications.worker import EscalationWorker, WorkerConfig


class HangingWebhook:
    """Claims like any channel, announces it, then hangs forever (the test kills the process)."""

    name = "webhook"

    def address_for(self, recipient: Recipient) -> str | None:
        return "http://127.0.0.1:9/never"

    async def send(self, message: OutgoingMessage) -> str | None:
        print(f"CLAIMED {message.dedupe_key}", flush=True)
        await asyncio.sleep(3600)
        return None


def outstanding(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        steps = s.scalar(select(func.count()).where(EscalationStep.status == StepStatus.PENDING))
        deliveries = s.scalar(
            select(func.count()).where(NotificationDelivery.status == DeliveryStatus.PENDING)
        )
        return int(steps or 0) + int(deliveries or 0)


async def work(args: argparse.Namespace) -> None:
    engine = make_engine(args.db_url)
    sessions = make_session_factory(engine)
    channel: NotificationChannel = (
        HangingWebhook() if args.hang else WebhookChannel(args.webhook_url, "secret")
    )
    lease = timedelta(seconds=args.lease)
    config = WorkerConfig(
        public_base_url="https://crm.example.com",
        timezone="UTC",
        worker_id=args.worker_id,
        poll_interval=timedelta(milliseconds=50),
        lease=lease,
        send_timeout=lease / 2,
        batch_size=args.batch,
    )
    worker = EscalationWorker(sessions, [channel], config)
    outstanding(sessions)
    print("READY", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.timeout
    while loop.time() < deadline:
        if await worker.run_once() == 0:
            if outstanding(sessions) == 0:
                break
            await asyncio.sleep(0.05)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--webhook-url", default="http://127.0.0.1:9/")
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=8.0)
    parser.add_argument("--hang", action="store_true")
    asyncio.run(work(parser.parse_args()))


if __name__ == "__main__":
    main()
