"""One 1C sync run: users, clients, contacts, then the documents of the moving window.

An incremental run reads only what changed since the versions last applied (:mod:`changes`); a full run
(nightly, ``--full``, the first run) re-reads and re-applies every catalog object and archives the clients
1C deleted outright. Documents of the window are read by their changes in both kinds.

Each page is applied and committed on its own (with the ``DataVersion`` it applied), so a run that fails
half-way leaves whole pages behind and the next run resumes by skipping what is already current. A dry run
applies everything in one transaction and rolls it back. ``after_commit`` gets the numbers whose routing
changed (and whether the routing configuration did) after every commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from crm_core.models.external_sync import SyncRun
from crm_core.syncing import (
    CLIENT,
    CONTACT,
    DOCUMENT,
    FULL,
    INCREMENTAL,
    SyncReport,
    applied_versions,
    apply_clients,
    apply_contacts,
    apply_documents,
    apply_users,
    archive_vanished_clients,
    finish_run,
    remove_vanished_contacts,
    remove_vanished_documents,
    start_run,
)
from crm_core.syncing.clients import CLIENTS, CONTACTS
from crm_core.syncing.documents import KIND as DOCUMENTS
from erp_bridge.onec import changes, reader
from erp_bridge.onec.client import ODataClient
from erp_bridge.onec.errors import OneCError
from erp_bridge.onec.profiles import Profile

log = logging.getLogger(__name__)

SOURCE = "1c"
WINDOW_DAYS = 45
AfterCommit = Callable[[set[str], bool], None]
Progress = Callable[[str, int], None]
Commit = Callable[[str, int], None]


@dataclass(frozen=True)
class SyncOptions:
    region: str = "RU"
    today: date | None = None
    window_days: int = WINDOW_DAYS
    dry_run: bool = False
    full: bool = False
    """Re-read and re-apply every catalog object and archive those 1C deleted (the nightly pass)."""


class SyncFailed(Exception):
    """The run could not complete; what was committed before stays, the next run resumes."""

    def __init__(self, reason: str, report: SyncReport) -> None:
        super().__init__(reason)
        self.report = report


def run_sync(
    sessions: sessionmaker[Session],
    client: ODataClient,
    profile: Profile,
    options: SyncOptions,
    *,
    after_commit: AfterCommit | None = None,
    on_progress: Progress | None = None,
) -> SyncReport:
    """Run one sync; raises :class:`SyncFailed` when it could not complete."""
    report = SyncReport()
    run_id = None
    if not options.dry_run:  # a dry run is not a run operators should see as the last one
        with sessions() as session:
            run_id = start_run(session, SOURCE, FULL if options.full else INCREMENTAL).id
            session.commit()
    try:
        with sessions() as session:
            _steps(session, client, profile, options, report, after_commit, on_progress)
    except (OneCError, OSError) as exc:
        _finish(sessions, run_id, report, str(exc))
        raise SyncFailed(str(exc), report) from exc
    except Exception as exc:
        log.exception("1C sync failed on an unexpected error", extra={"error": repr(exc)})
        _finish(sessions, run_id, report, f"internal error: {exc!r}")
        raise SyncFailed(repr(exc), report) from exc
    _finish(sessions, run_id, report, None)
    return report


def _finish(
    sessions: sessionmaker[Session], run_id: int | None, report: SyncReport, error: str | None
) -> None:
    if run_id is None:
        return
    with sessions() as session:
        run = session.get(SyncRun, run_id)
        if run is not None:
            finish_run(session, run, report, error)
            session.commit()


def _steps(
    session: Session,
    client: ODataClient,
    profile: Profile,
    options: SyncOptions,
    report: SyncReport,
    after_commit: AfterCommit | None,
    on_progress: Progress | None,
) -> None:
    def commit(kind: str, count: int) -> None:
        if options.dry_run:
            session.flush()
        else:
            session.commit()
            if after_commit is not None and (report.numbers_changed or report.config_changed):
                after_commit(set(report.numbers_changed), report.config_changed)
            report.numbers_changed.clear()
            report.config_changed = False
        if on_progress is not None:
            on_progress(kind, count)

    for users in reader.users(client, profile):
        apply_users(session, SOURCE, users, report)
        commit("users", len(users))
    if options.full:
        _full_catalogs(session, client, profile, options, report, commit)
    else:
        _changed_catalogs(session, client, profile, options, report, commit)
    since = (options.today or date.today()) - timedelta(days=options.window_days)
    names = reader.products(client, profile)
    applied = applied_versions(session, SOURCE, DOCUMENT)  # documents: changed ones only, in either kind
    documents = changes.changed_documents(client, profile, since, names, applied)
    report.of(DOCUMENTS).unchanged += documents.skipped
    seen = set(documents.seen)
    for page in documents.pages:
        apply_documents(session, SOURCE, page, report)
        seen.update(d.ref for d in page)
        commit("documents", len(page))
    remove_vanished_documents(session, SOURCE, since, seen, report)
    commit("documents", 0)
    if options.dry_run:
        session.rollback()


def _changed_catalogs(
    session: Session,
    client: ODataClient,
    profile: Profile,
    options: SyncOptions,
    report: SyncReport,
    commit: Commit,
) -> None:
    """Clients and contacts changed since the versions last applied (a version scan, then those only)."""
    clients = changes.changed_clients(client, profile, applied_versions(session, SOURCE, CLIENT))
    report.of(CLIENTS).unchanged += clients.skipped
    for page in clients.pages:
        apply_clients(session, SOURCE, page, options.region, report)
        commit("clients", len(page))
    contacts = changes.changed_contacts(client, profile, applied_versions(session, SOURCE, CONTACT))
    report.of(CONTACTS).unchanged += contacts.skipped
    for people in contacts.pages:
        apply_contacts(session, SOURCE, people, options.region, report)
        commit("contacts", len(people))


def _full_catalogs(
    session: Session,
    client: ODataClient,
    profile: Profile,
    options: SyncOptions,
    report: SyncReport,
    commit: Commit,
) -> None:
    """Every client and contact re-read and re-applied; those 1C deleted outright are archived/removed."""
    seen: set[str] = set()
    for page in reader.clients(client, profile):
        apply_clients(session, SOURCE, page, options.region, report, force=True)
        seen.update(c.ref for c in page)
        commit("clients", len(page))
    stored = set(applied_versions(session, SOURCE, CLIENT)) - seen
    card_set = profile.partners or profile.counterparties
    archive_vanished_clients(session, SOURCE, changes.gone(client, card_set, stored), report)
    commit("clients", 0)
    if profile.contacts is None:
        return
    seen.clear()
    for people in reader.contacts(client, profile):
        apply_contacts(session, SOURCE, people, options.region, report, force=True)
        seen.update(c.ref for c in people)
        commit("contacts", len(people))
    stored = set(applied_versions(session, SOURCE, CONTACT)) - seen
    remove_vanished_contacts(session, SOURCE, changes.gone(client, profile.contacts, stored), report)
    commit("contacts", 0)
