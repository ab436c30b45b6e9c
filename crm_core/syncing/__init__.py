"""Apply objects read from an outside system of record (1C) with the same rules as the CSV import.

The adapter (``erp_bridge.onec``) turns the foreign protocol into the typed rows of :mod:`rows`; the
functions here match them to stored rows, write what changed, audit it as made by the sync and report
which numbers the routing cache must forget. They never commit: the caller commits each batch.
"""

from crm_core.syncing.clients import apply_clients, apply_contacts
from crm_core.syncing.documents import apply_documents, remove_vanished_documents
from crm_core.syncing.managers import apply_users
from crm_core.syncing.report import KindCounts, SyncReport
from crm_core.syncing.rows import (
    ExternalClient,
    ExternalContact,
    ExternalDocument,
    ExternalLine,
    ExternalUser,
)
from crm_core.syncing.runs import FULL, INCREMENTAL, finish_run, last_full_start, last_run, start_run
from crm_core.syncing.state import CLIENT, CONTACT, DOCUMENT, USER, applied_versions
from crm_core.syncing.vanished import archive_vanished_clients, remove_vanished_contacts

__all__ = [
    "CLIENT",
    "CONTACT",
    "DOCUMENT",
    "FULL",
    "INCREMENTAL",
    "USER",
    "ExternalClient",
    "ExternalContact",
    "ExternalDocument",
    "ExternalLine",
    "ExternalUser",
    "KindCounts",
    "SyncReport",
    "applied_versions",
    "apply_clients",
    "apply_contacts",
    "apply_documents",
    "apply_users",
    "archive_vanished_clients",
    "finish_run",
    "last_full_start",
    "last_run",
    "remove_vanished_contacts",
    "remove_vanished_documents",
    "start_run",
]
