"""``callrouter analytics ...``: client status recompute and the sales reports (docs/analytics.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callrouter.cli.common import load_settings
from callrouter.wiring import build_container
from crm_core.analytics.abc_xyz import AbcClass, XyzClass, abc_xyz_report
from crm_core.analytics.forgotten import DEFAULT_DAYS, ContactKind, forgotten_clients, group_by_manager
from crm_core.analytics.kpi import manager_kpis
from crm_core.analytics.period import Period
from crm_core.analytics.rfm import rfm_report
from crm_core.analytics.status import StatusThresholds, recompute_statuses
from crm_core.i18n.localizer import N_, Localizer
from crm_core.models import ManagerRole, utcnow
from crm_core.repositories.analytics import counterparty_names
from crm_core.repositories.scoped import Viewer
from crm_core.services import analytics_settings

app = typer.Typer(
    help="CRM analytics: client status, ABC/XYZ, RFM, forgotten clients, KPIs.", no_args_is_help=True
)

EVERYONE = Viewer(0, ManagerRole.ADMIN)
"""The command line reports on the whole company, as a director sees it."""
CONTACT_KIND_NAMES = {
    ContactKind.CALL: N_("call"),
    ContactKind.MEETING: N_("meeting"),
    ContactKind.MESSAGE: N_("message"),
    ContactKind.IMPORTED: N_("imported"),
}
KPI_HEADERS = (
    N_("manager"), N_("refined cards"), N_("refined contacts"), N_("answered"), N_("talk"), N_("missed"),
    N_("called back"), N_("median callback"), N_("revenue"), N_("active"), N_("won"),
)  # fmt: skip


def _print(*renderables: object) -> None:
    Console().print(*renderables)


def _fail(message: str, exc: Exception) -> typer.Exit:
    """Print ``message: exc`` on stderr and return the exit (code 2) to raise."""
    Console(stderr=True).print(f"[red]{message}[/red]: {exc}", highlight=False)
    return typer.Exit(2)


DateOption = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")]
Limit = Annotated[int, typer.Option(min=0, help="Rows to list (0: summary only)")]
AsOf = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Reference day YYYY-MM-DD (default: today); later data is ignored",
    ),
]


@contextmanager
def _session(as_of: datetime | None) -> Iterator[tuple[Session, str, date]]:
    """A session, the company timezone and the reference day (``as_of`` or today there); database errors
    end with exit code 2."""
    settings = load_settings()
    container = build_container(settings)
    today = as_of.date() if as_of else datetime.now(ZoneInfo(settings.company_timezone)).date()
    try:
        with container.sessions() as session:
            yield session, settings.company_timezone, today
    except SQLAlchemyError as exc:
        raise _fail("database error", exc) from exc
    finally:
        container.close()


def _period(start: datetime | None, end: datetime | None, default: Period) -> Period:
    try:
        return Period(start.date() if start else default.start, end.date() if end else default.end)
    except ValueError as exc:
        raise _fail("bad period", exc) from exc


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


@app.command()
def status(
    fresh_days: Annotated[
        int | None,
        typer.Option(min=0, help="One-time client stays fresh this many days (default: the stored setting)"),
    ] = None,
    departed_days: Annotated[
        int | None,
        typer.Option(min=0, help="Regular client departs after this many days (default: the stored setting)"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute and report, write nothing")] = False,
    as_of: AsOf = None,
) -> None:
    """Recompute every client's status from its purchases (run daily)."""
    columns = (TextColumn("updating statuses"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        _session(as_of) as (session, _, today),
        Progress(*columns, console=Console(stderr=True), transient=True) as progress,
    ):
        stored = analytics_settings.thresholds(session).status
        try:
            thresholds = StatusThresholds(
                fresh_days=stored.fresh_days if fresh_days is None else fresh_days,
                departed_days=stored.departed_days if departed_days is None else departed_days,
            )
        except ValueError as exc:
            raise _fail("bad thresholds", exc) from exc
        task = progress.add_task("status", total=None)
        result = recompute_statuses(
            session,
            today,
            utcnow(),
            thresholds,
            dry_run=dry_run,
            progress=lambda d, t: progress.update(task, completed=d, total=t),
        )
        if dry_run:
            session.rollback()
        else:
            session.commit()
    table = Table(
        "from", "to", "clients", title=f"Status changes on {today} ({'dry run' if dry_run else 'saved'})"
    )
    for (old, new), count in sorted(result.transitions.items(), key=lambda item: -item[1]):
        table.add_row(old.value, new.value, str(count))
    _print(table)
    _print(f"{result.changed} of {result.total} clients changed status")


@app.command()
def abc(start: DateOption = None, end: DateOption = None, limit: Limit = 20, as_of: AsOf = None) -> None:
    """ABC (revenue share) x XYZ (monthly stability) of clients; default: the 12 whole months before the
    reference day's month."""
    with _session(as_of) as (session, _, today):
        period = _period(start, end, Period.whole_months_before(today, 12))
        limits = analytics_settings.thresholds(session)
        rows = abc_xyz_report(session, period, limits.abc, limits.xyz)
    cells: Counter[tuple[AbcClass, XyzClass | None]] = Counter()
    revenue = dict.fromkeys(AbcClass, Decimal(0))
    for row in rows:
        cells[(row.abc, row.xyz)] += 1
        revenue[row.abc] += row.revenue
    xyz_columns: list[XyzClass | None] = list(XyzClass) if len(period.months()) >= 2 else [None]
    matrix = Table(
        "ABC",
        *(x.value if x else "clients" for x in xyz_columns),
        "revenue",
        title=f"ABC/XYZ {period.start}..{period.end}",
    )
    for a in AbcClass:
        matrix.add_row(a.value, *(str(cells[(a, x)]) for x in xyz_columns), _money(revenue[a]))
    _print(matrix)
    top = Table("client", "revenue", "ABC", "XYZ", "CV", title=f"Top {limit} clients")
    for row in rows[:limit]:
        cv = "-" if row.cv is None else f"{row.cv:.2f}"
        top.add_row(row.name, _money(row.revenue), row.abc.value, row.xyz.value if row.xyz else "-", cv)
    if limit:
        _print(top)


@app.command()
def rfm(start: DateOption = None, end: DateOption = None, limit: Limit = 20, as_of: AsOf = None) -> None:
    """RFM scores (1-5 by fifths) of clients that bought; default: the 365 days up to the reference day."""
    with _session(as_of) as (session, _, today):
        period = _period(start, end, Period.last_days(365, today))
        scores = rfm_report(session, period)
        names = counterparty_names(session, [s.counterparty_id for s in scores[:limit]])
    codes = Table("RFM", "clients", title=f"Most common RFM codes {period.start}..{period.end}")
    for code, count in Counter(s.code for s in scores).most_common(10):
        codes.add_row(code, str(count))
    _print(codes)
    if limit:
        top = Table("client", "RFM", "days since", "orders", "revenue", title=f"Best {limit} clients")
        for s in scores[:limit]:
            top.add_row(
                names[s.counterparty_id], s.code, str(s.recency_days), str(s.frequency), _money(s.monetary)
            )
        _print(top)


def _l10n(timezone: str) -> Localizer:
    """Texts in the company's language (``CALLROUTER_LANGUAGE``)."""
    return Localizer.of(load_settings().language, timezone)


@app.command()
def forgotten(
    days: Annotated[int, typer.Option(min=1, help="Forgotten after this many silent days")] = DEFAULT_DAYS,
    limit: Annotated[int, typer.Option(min=0, help="Clients listed per manager")] = 10,
    as_of: AsOf = None,
) -> None:
    """Clients nobody called, met or wrote to for more than DAYS days up to the reference day."""
    with _session(as_of) as (session, tz, today):
        groups = group_by_manager(forgotten_clients(session, EVERYONE, today, tz, days))
    _ = _l10n(tz)
    nobody = _.gettext("(no manager)")
    summary = Table(
        _.gettext("manager"),
        _.gettext("forgotten clients"),
        _.gettext("never contacted"),
        title=_.gettext("Forgotten clients (over %(days)s days) on %(day)s", days=days, day=today),
    )
    ordered = sorted(groups.values(), key=len, reverse=True)
    for clients in ordered:
        never = sum(c.never_contacted for c in clients)
        summary.add_row(clients[0].manager_name or nobody, str(len(clients)), str(never))
    _print(summary)
    if not limit:
        return
    for clients in ordered:
        table = Table(
            _.gettext("client"),
            _.gettext("last contact"),
            _.gettext("how"),
            _.gettext("days silent"),
            title=clients[0].manager_name or nobody,
        )
        for c in clients[:limit]:
            at = c.last_contact_at
            if at is None:
                when = _.gettext("never contacted")
            elif c.last_contact_kind is ContactKind.IMPORTED:
                when = at.date().isoformat()  # an imported day has no time of its own
            else:
                when = _.date_time(at)
            how = _.gettext(CONTACT_KIND_NAMES[c.last_contact_kind]) if c.last_contact_kind else "-"
            table.add_row(c.name, when, how, str(c.days_silent))
        _print(table)


Month = Annotated[
    datetime | None, typer.Option(formats=["%Y-%m"], help="YYYY-MM: the whole month (instead of a period)")
]


@app.command()
def kpi(start: DateOption = None, end: DateOption = None, as_of: AsOf = None, month: Month = None) -> None:
    """Manager KPIs incl. refined cards and contacts; default: the reference day's month up to that day."""
    if month is not None and (start or end or as_of):
        raise _fail("bad period", ValueError("--month replaces --start, --end and --as-of"))
    with _session(as_of) as (session, tz, today):
        default = Period.month(month.year, month.month) if month else Period(today.replace(day=1), today)
        period = _period(start, end, default)
        kpis = manager_kpis(session, period, tz)
    _ = _l10n(tz)
    table = Table(
        *(_.gettext(h) for h in KPI_HEADERS),
        title=_.gettext("Manager KPIs %(start)s..%(end)s", start=period.start, end=period.end),
    )
    for k in kpis:
        rate = "-" if k.callbacks.rate is None else f"{k.callbacks.rate:.0%}"
        median = "-" if k.callbacks.median_delay is None else _.duration(k.callbacks.median_delay)
        table.add_row(
            k.name,
            str(k.refined_counterparties),
            str(k.refined_contacts),
            str(k.calls_answered),
            str(timedelta(seconds=round(k.talk_seconds))),
            str(k.callbacks.missed),
            rate,
            median,
            _money(k.revenue),
            str(k.active_clients),
            str(k.deals_won),
        )
    _print(table)
