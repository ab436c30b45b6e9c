"""``callrouter sync 1c``: one run of the 1C exchange (docs/onec.md), with a progress bar.

Exit 0 when the run completed (warnings such as unreadable phones included), 1 when it could not complete
(1C unreachable, wrong password, object not published...; what was committed stays and the next run
resumes), 2 on a configuration error.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from callrouter.cli.common import load_settings
from callrouter.logging_setup import configure_logging
from callrouter.onec_sync import configured, sync_1c
from callrouter.wiring import Container, build_container
from crm_core.syncing import SyncReport
from erp_bridge.onec.sync import Progress as OnProgress
from erp_bridge.onec.sync import SyncFailed

SHOWN_PROBLEMS = 50

app = typer.Typer(help="Synchronize with an outside system of record.", no_args_is_help=True)


@app.command("1c")
def sync_one_c(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read 1C and report, write nothing")] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read every catalog object, not only the changed ones")
    ] = False,
) -> None:
    """Read users, clients, contact persons and recent sales/returns from 1C's OData interface."""
    settings = load_settings()
    configure_logging(settings.log_level)
    err = Console(stderr=True, soft_wrap=True)
    if not configured(settings):
        err.print("set CALLROUTER_1C_URL and CALLROUTER_1C_USERNAME (and _PASSWORD)", highlight=False)
        raise typer.Exit(2)
    container = build_container(settings)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} objects"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
            tasks: dict[str, TaskID] = {}

            def advance(kind: str, count: int) -> None:
                if kind not in tasks:
                    tasks[kind] = progress.add_task(kind, total=None)
                progress.advance(tasks[kind], count)

            report = asyncio.run(_run(container, dry_run, full, advance))
    except SyncFailed as exc:
        _print(exc.report, err)
        err.print(f"[red]1C sync could not complete[/red]: {exc}", highlight=False)
        raise typer.Exit(1) from exc
    except ValueError as exc:
        err.print(f"[red]configuration error[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    finally:
        container.close()
    _print(report, err)
    typer.echo(("dry run, nothing written: " if dry_run else "") + report.summary())


async def _run(container: Container, dry_run: bool, full: bool, advance: OnProgress) -> SyncReport:
    try:
        return await sync_1c(container, dry_run=dry_run, full=full, on_progress=advance)
    finally:
        await container.aclose()


def _print(report: SyncReport, err: Console) -> None:
    for problem in report.problems[:SHOWN_PROBLEMS]:
        err.print(str(problem), highlight=False, markup=False)
    if len(report.problems) > SHOWN_PROBLEMS:
        err.print(f"... and {len(report.problems) - SHOWN_PROBLEMS} more", highlight=False)
