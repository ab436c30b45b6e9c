"""Incremental reads: find what changed in 1C since the versions last applied, and read only that.

1C's standard OData interface has no change tracking: ``DataVersion`` is an opaque string with no order
(and 1C refuses it in ``$filter``), catalogs carry no modification date, and exchange plans (1C's own
change registration) are not part of the standard interface. What it answers cheaply is a **version
scan**: every object's ``Ref_Key`` and ``DataVersion`` only (``$select``, no table parts, about 80 bytes
an object). The scan is compared with the versions last applied, and the changed objects are read whole by
reference (``Ref_Key eq guid'...' or ...``, :meth:`ODataClient.by_refs`). When many changed (a mass
re-save in 1C, the first run) the whole set is read page by page as a full run does, which is cheaper
than thousands of small requests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from crm_core.syncing import ExternalClient, ExternalContact, ExternalDocument
from erp_bridge.onec import reader
from erp_bridge.onec.client import Entity, ODataClient
from erp_bridge.onec.profiles import Profile

Row = TypeVar("Row")
Applied = Mapping[str, str | None]
_SCAN = ("Ref_Key", "DataVersion")
MIN_BY_REFS = 100
"""Up to this many changed objects are always read by reference ..."""
SHARE_BY_REFS = 0.1
"""... and up to this share of the set; above both, the whole set is read."""


@dataclass
class Changes(Generic[Row]):
    """What a scan found: the pages of changed objects (read lazily) and what it skipped."""

    pages: Iterator[list[Row]]
    skipped: int = 0
    """Objects whose version was already applied: not read."""
    seen: set[str] = field(default_factory=set)
    """Every reference the scan found (1C has them now)."""


def scan(
    client: ODataClient, entity_set: str, *, extra: Sequence[str] = (), filter_: str | None = None
) -> list[Entity]:
    """Every object's ``Ref_Key`` and ``DataVersion`` (and ``extra`` fields) of ``entity_set``."""
    return [e for page in client.pages(entity_set, select=(*_SCAN, *extra), filter_=filter_) for e in page]


def stale(versions: Mapping[str, str | None], applied: Applied) -> list[str]:
    """The references whose version in 1C is not the one last applied (new ones included)."""
    return [ref for ref, version in versions.items() if applied.get(ref) != version]


def by_refs_pays(changed: int, total: int) -> bool:
    """Whether reading ``changed`` of ``total`` objects by reference beats reading the whole set.

    >>> by_refs_pays(130, 13_000), by_refs_pays(5_000, 13_000), by_refs_pays(2, 2)
    (True, False, True)
    """
    return changed <= max(MIN_BY_REFS, int(total * SHARE_BY_REFS))


def changed_clients(client: ODataClient, profile: Profile, applied: Applied) -> Changes[ExternalClient]:
    """The clients whose card (or, in UT 11, one of its counterparties) changed since ``applied``."""
    if profile.partners is None:
        cards = scan(client, profile.counterparties)
        versions = {e["Ref_Key"]: str(e.get("DataVersion") or "") for e in cards}
        legal: dict[str, list[Entity]] = {}
        card_set = profile.counterparties
    else:
        legal = defaultdict(list)
        for e in scan(client, profile.counterparties, extra=(profile.partner_field,)):
            if (partner := reader.ref_of(e, profile.partner_field)) is not None:
                legal[partner].append(e)
        versions = {
            e["Ref_Key"]: reader.client_version(
                str(e.get("DataVersion") or ""),
                (str(x.get("DataVersion") or "") for x in legal[e["Ref_Key"]]),
            )
            for e in scan(client, profile.partners)
        }
        card_set = profile.partners
    todo = stale(versions, applied)
    if not by_refs_pays(len(todo), len(versions)):
        return Changes(reader.clients(client, profile), 0, set(versions))

    def pages() -> Iterator[list[ExternalClient]]:
        for cards in client.by_refs(card_set, todo, select=reader.client_fields(profile)):
            owned = _legal_entities(
                client, profile, [x["Ref_Key"] for c in cards for x in legal.get(c["Ref_Key"], [])]
            )
            yield [reader.client_row(c, owned.get(c["Ref_Key"], []), profile) for c in cards]

    return Changes(pages(), len(versions) - len(todo), set(versions))


def _legal_entities(client: ODataClient, profile: Profile, refs: list[str]) -> dict[str, list[Entity]]:
    """UT 11 counterparties read whole by reference, by the partner they belong to."""
    found: dict[str, list[Entity]] = defaultdict(list)
    for page in client.by_refs(profile.counterparties, refs, select=reader.legal_fields(profile)):
        for e in page:
            if (partner := reader.ref_of(e, profile.partner_field)) is not None:
                found[partner].append(e)
    return found


def changed_contacts(client: ODataClient, profile: Profile, applied: Applied) -> Changes[ExternalContact]:
    if profile.contacts is None:
        return Changes(iter(()))
    versions = {e["Ref_Key"]: e.get("DataVersion") for e in scan(client, profile.contacts)}
    todo = stale(versions, applied)
    if not by_refs_pays(len(todo), len(versions)):
        return Changes(reader.contacts(client, profile), 0, set(versions))
    entity_set = profile.contacts
    pages = (
        [reader.contact_row(e, profile) for e in page]
        for page in client.by_refs(entity_set, todo, select=reader.contact_fields(profile))
    )
    return Changes(pages, len(versions) - len(todo), set(versions))


def changed_documents(
    client: ODataClient, profile: Profile, since: date, names: dict[str, str], applied: Applied
) -> Changes[ExternalDocument]:
    """The sales and returns dated from ``since`` that changed; ``seen`` is the whole window."""
    window = reader.window_filter(since)
    found = {
        (entity_set, is_return): {
            e["Ref_Key"]: e.get("DataVersion") for e in scan(client, entity_set, filter_=window)
        }
        for entity_set, is_return in reader.document_sets(profile)
    }
    seen = {ref for versions in found.values() for ref in versions}
    todo = {key: stale(versions, applied) for key, versions in found.items()}
    changed = sum(len(refs) for refs in todo.values())
    if not by_refs_pays(changed, len(seen)):
        return Changes(reader.documents(client, profile, since, names), 0, seen)

    def pages() -> Iterator[list[ExternalDocument]]:
        for (entity_set, is_return), refs in todo.items():
            for page in client.by_refs(entity_set, refs, select=reader.document_fields(profile)):
                yield [reader.document_row(e, profile, is_return, names) for e in page]

    return Changes(pages(), len(seen) - changed, seen)


def gone(client: ODataClient, entity_set: str, refs: set[str]) -> set[str]:
    """Which of ``refs`` 1C really no longer has (asked one by one, so a page that shifted while a full
    read paged through the set never makes an object look deleted)."""
    present = {
        e["Ref_Key"] for page in client.by_refs(entity_set, sorted(refs), select=("Ref_Key",)) for e in page
    }
    return refs - present
