"""Run the 1C sync for this process: build the OData client from settings, tell routing what changed.

The sync itself runs in a worker thread (it is blocking I/O and SQL); after each committed page the numbers
whose routing changed are invalidated on the event loop through the routing service, exactly like an API
write, so the next call sees the change. ``serve`` runs it every ``CALLROUTER_1C_INTERVAL_S``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.syncing import SyncReport, last_full_start
from erp_bridge.onec.client import ODataClient
from erp_bridge.onec.profiles import load_profile
from erp_bridge.onec.schedule import full_due
from erp_bridge.onec.sync import SOURCE, Progress, SyncFailed, SyncOptions, run_sync

log = logging.getLogger(__name__)


def configured(settings: Settings) -> bool:
    return bool(settings.onec_url and settings.onec_username)


def build_client(settings: Settings) -> ODataClient:
    if not configured(settings):
        raise ValueError("set CALLROUTER_1C_URL and CALLROUTER_1C_USERNAME (and CALLROUTER_1C_PASSWORD)")
    password = settings.onec_password.get_secret_value() if settings.onec_password else ""
    return ODataClient(str(settings.onec_url), str(settings.onec_username), password)


async def sync_1c(
    container: Container,
    *,
    dry_run: bool = False,
    full: bool = False,
    on_progress: Progress | None = None,
) -> SyncReport:
    """One run; raises :class:`SyncFailed` when it could not complete (what was committed stays).

    The run is full when ``full`` is asked for or :func:`full_due` says so (none yet, or none since
    ``CALLROUTER_1C_FULL_AT`` in the company timezone); otherwise it is incremental."""
    settings = container.settings
    profile = load_profile(settings.onec_profile)
    loop = asyncio.get_running_loop()
    routing = container.routing

    def invalidate(numbers: set[str], config: bool) -> None:
        if routing is None:
            return
        if config:
            asyncio.run_coroutine_threadsafe(routing.invalidate_config(), loop).result()
        if numbers:
            asyncio.run_coroutine_threadsafe(routing.invalidate_numbers(sorted(numbers)), loop).result()

    def work() -> SyncReport:
        with build_client(settings) as client:
            now = datetime.now(ZoneInfo(settings.company_timezone))
            with container.sessions() as session:
                last_full = last_full_start(session, SOURCE)
            options = SyncOptions(
                region=settings.default_region,
                today=now.date(),  # the window's end
                dry_run=dry_run,
                full=full or full_due(now, settings.onec_full_at, last_full),
            )
            return run_sync(
                container.sessions, client, profile, options, after_commit=invalidate, on_progress=on_progress
            )

    started = time.monotonic()
    try:
        report = await asyncio.to_thread(work)
    except SyncFailed as exc:
        _record(container, exc.report, time.monotonic() - started, "failed")
        raise
    _record(container, report, time.monotonic() - started, "completed")
    return report


def _record(container: Container, report: SyncReport, duration_s: float, result: str) -> None:
    m = container.metrics
    m.sync_runs.labels(SOURCE, result).inc()
    m.sync_last_finished.labels(SOURCE).set(time.time())
    m.sync_last_duration.labels(SOURCE).set(duration_s)
    for kind, counts in report.counts_dict().items():
        for outcome, value in counts.items():
            m.sync_objects.labels(SOURCE, kind, outcome).set(value)


async def run_periodically(container: Container, stop: asyncio.Event | None = None) -> None:
    """Sync now and then every ``CALLROUTER_1C_INTERVAL_S`` until cancelled; a failed run is logged."""
    interval = container.settings.onec_interval_s
    while True:
        try:
            report = await sync_1c(container)
            log.info("1C sync completed", extra={"summary": report.summary()})
        except SyncFailed as exc:
            log.error("1C sync failed; the next run resumes", extra={"error": str(exc)})
        except Exception as exc:
            log.exception("1C sync crashed", extra={"error": repr(exc)})
        if stop is not None:
            try:
                async with asyncio.timeout(interval):
                    await stop.wait()
                return
            except TimeoutError:
                continue
        await asyncio.sleep(interval)


def status(container: Container) -> dict[str, Any] | None:
    """The last run (from the database, so a CLI run shows too) for /ready and the admin API."""
    from crm_core.syncing import last_run

    with container.sessions() as session:
        return last_run(session, SOURCE)
