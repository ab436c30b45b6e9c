"""``callrouter import FILE.csv``: counterparties (with numbers and managers), managers or 1C shipment lines.

The whole import is one transaction committed at the end (rolled back for ``--dry-run``): a crash or a
database error leaves nothing behind. Rejected rows are listed by line; the exit code is 1 when any row was
rejected and 2 when the file could not be read or the import was aborted. ``--errors-csv`` is opened before
the import starts and written before the commit, so an unwritable path costs nothing but a one-line error.
"""

from __future__ import annotations

import enum
from contextlib import ExitStack
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, TextIO
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.importing import (
    COUNTERPARTY_COLUMNS,
    COUNTERPARTY_REPEATABLE,
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
    Kind.COUNTERPARTIES: (COUNTERPARTY_COLUMNS, COUNTERPARTY_REQUIRED, COUNTERPARTY_REPEATABLE),
    Kind.MANAGERS: (MANAGER_COLUMNS, MANAGER_REQUIRED, frozenset[str]()),
    Kind.SHIPMENTS: (SHIPMENT_COLUMNS, SHIPMENT_REQUIRED, frozenset[str]()),
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
    aliases, required, repeatable = COLUMNS[kind]
    try:
        source = read_csv(
            file.read_bytes(), aliases, required=required, repeatable=repeatable, encoding=encoding
        )
    except CsvFormatError as exc:
        err.print(f"[red]cannot read {file}[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    if source.ignored_headers:
        err.print(f"ignored columns: {', '.join(source.ignored_headers)}", highlight=False)
    with ExitStack() as stack:
        errors_out = None if errors_csv is None else stack.enter_context(_open_errors_csv(errors_csv, err))
        report = _import(kind, source, dry_run, errors_out, err)
    _print_report(report, dry_run, err)
    if report.rejected:
        raise typer.Exit(1)


def _open_errors_csv(path: Path, err: Console) -> TextIO:
    """The ``--errors-csv`` file, opened before anything is imported; exit 2 with one line if it cannot be."""
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        reason = escape(str(exc.strerror or exc))
        err.print(f"[red]cannot write --errors-csv {escape(str(path))}[/red]: {reason}", highlight=False)
        raise typer.Exit(2) from exc


def _import(
    kind: Kind, source: CsvSource, dry_run: bool, errors_out: TextIO | None, err: Console
) -> ImportReport:
    settings = Settings()
    container = build_container(settings)
    try:
        today = datetime.now(ZoneInfo(settings.company_timezone)).date()
        context = (settings.default_region, today, settings.pbx_names)
        return _run(container.sessions(), kind, source, context, dry_run, errors_out, err)
    except (SQLAlchemyError, OSError) as exc:
        err.print(f"[red]import aborted, nothing written[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    finally:
        container.close()


def _run(
    session: Session,
    kind: Kind,
    source: CsvSource,
    context: tuple[str, date, list[str]],
    dry_run: bool,
    errors_out: TextIO | None,
    err: Console,
) -> ImportReport:
    """Import in one transaction (progress bar); write ``errors_out``, then commit unless ``dry_run``."""
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        session,
        Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress,
    ):
        task = progress.add_task("import", total=len(source.records))
        advance = partial(progress.advance, task)
        region, today, pbxs = context
        if kind is Kind.COUNTERPARTIES:
            report = import_counterparties(session, source, region=region, today=today, on_progress=advance)
        elif kind is Kind.MANAGERS:
            report = import_managers(session, source, region=region, pbxs=pbxs, on_progress=advance)
        else:
            report = import_shipments(session, source, today=today, on_progress=advance)
        if errors_out is not None:
            report.write_errors_csv(errors_out)
            errors_out.flush()
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report


def _print_report(report: ImportReport, dry_run: bool, err: Console) -> None:
    problems = report.problems()
    for problem in problems[:SHOWN_ERRORS]:
        err.print(str(problem), highlight=False, markup=False)
    if len(problems) > SHOWN_ERRORS:
        err.print(f"... and {len(problems) - SHOWN_ERRORS} more (see --errors-csv)", highlight=False)
    prefix = "dry run, nothing written: " if dry_run else ""
    typer.echo(prefix + report.summary())
