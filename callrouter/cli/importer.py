"""``callrouter import FILE.csv``: counterparties (with numbers and managers), managers or 1C shipment lines.

The whole import is one transaction committed at the end (rolled back for ``--dry-run``): a crash or a
database error leaves nothing behind. Rejected rows are listed by line; the exit code is 1 when any row was
rejected and 2 when the file could not be read or the import was aborted.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.importing import (
    COUNTERPARTY_COLUMNS,
    COUNTERPARTY_REQUIRED,
    MANAGER_COLUMNS,
    MANAGER_REQUIRED,
    CsvFormatError,
    CsvSource,
    ImportReport,
    import_counterparties,
    import_managers,
    read_csv,
)
from crm_core.importing.shipment_rows import SHIPMENT_COLUMNS, SHIPMENT_REQUIRED
from crm_core.importing.shipments import import_shipments

SHOWN_ERRORS = 50


class Kind(enum.StrEnum):
    COUNTERPARTIES = "counterparties"
    MANAGERS = "managers"
    SHIPMENTS = "shipments"


COLUMNS = {
    Kind.COUNTERPARTIES: (COUNTERPARTY_COLUMNS, COUNTERPARTY_REQUIRED),
    Kind.MANAGERS: (MANAGER_COLUMNS, MANAGER_REQUIRED),
    Kind.SHIPMENTS: (SHIPMENT_COLUMNS, SHIPMENT_REQUIRED),
}


def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file")],
    kind: Annotated[Kind, typer.Option(help="What the file lists")] = Kind.COUNTERPARTIES,
    encoding: Annotated[
        str | None, typer.Option(help="File encoding, e.g. cp1251 for a Windows 1C/Excel export [UTF-8]")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report, write nothing")] = False,
    errors_csv: Annotated[
        Path | None, typer.Option(help="Also write the rejected lines here (line,code,reason)")
    ] = None,
) -> None:
    """Import counterparties (default), managers or 1C sales/return lines from a CSV file (docs/import.md)."""
    err = Console(stderr=True, soft_wrap=True)
    aliases, required = COLUMNS[kind]
    try:
        source = read_csv(file.read_bytes(), aliases, required=required, encoding=encoding)
    except CsvFormatError as exc:
        err.print(f"[red]cannot read {file}[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    if source.ignored_headers:
        err.print(f"ignored columns: {', '.join(source.ignored_headers)}", highlight=False)
    settings = Settings()
    container = build_container(settings)
    try:
        today = datetime.now(ZoneInfo(settings.company_timezone)).date()
        report = _run(container.sessions(), kind, source, (settings.default_region, today), dry_run, err)
    except SQLAlchemyError as exc:
        err.print(f"[red]import aborted, nothing written[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    finally:
        container.close()
    _print_report(report, dry_run, err)
    if errors_csv is not None:
        with errors_csv.open("w", encoding="utf-8", newline="") as out:
            report.write_errors_csv(out)
    if report.rejected:
        raise typer.Exit(1)


def _run(
    session: Session,
    kind: Kind,
    source: CsvSource,
    context: tuple[str, date],
    dry_run: bool,
    err: Console,
) -> ImportReport:
    """Import inside one transaction with a progress bar; commit unless ``dry_run``."""
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        session,
        Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress,
    ):
        task = progress.add_task("import", total=len(source.records))
        advance = partial(progress.advance, task)
        region, today = context
        if kind is Kind.COUNTERPARTIES:
            report = import_counterparties(session, source, region=region, on_progress=advance)
        elif kind is Kind.MANAGERS:
            report = import_managers(session, source, region=region, on_progress=advance)
        else:
            report = import_shipments(session, source, today=today, on_progress=advance)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report


def _print_report(report: ImportReport, dry_run: bool, err: Console) -> None:
    errors = sorted(report.errors, key=lambda e: e.line)
    for error in errors[:SHOWN_ERRORS]:
        err.print(str(error), highlight=False, markup=False)
    if len(errors) > SHOWN_ERRORS:
        err.print(f"... and {len(errors) - SHOWN_ERRORS} more (see --errors-csv)", highlight=False)
    prefix = "dry run, nothing written: " if dry_run else ""
    typer.echo(prefix + report.summary())
