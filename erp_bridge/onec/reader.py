"""1C entities (OData JSON) -> the typed rows crm_core applies, per profile (every object of a set)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from crm_core.syncing import ExternalClient, ExternalContact, ExternalDocument, ExternalLine, ExternalUser
from erp_bridge.onec.client import Entity, ODataClient, ref_or_none
from erp_bridge.onec.profiles import Profile

_BASE = ("Ref_Key", "DataVersion", "DeletionMark", "Description")


def ref_of(entity: Entity, field: str | None) -> str | None:
    """The reference in ``field`` (a ``*_Key``), None when the field is not mapped, absent or empty."""
    return ref_or_none(entity.get(field)) if field else None


def text_of(entity: Entity, field: str | None) -> str | None:
    """The stripped text of ``field``, None when the field is not mapped, absent or blank."""
    return (str(entity.get(field) or "").strip() or None) if field else None


def users(client: ODataClient, profile: Profile) -> Iterator[list[ExternalUser]]:
    for page in client.pages(profile.users, select=_BASE):
        yield [
            ExternalUser(
                ref=e["Ref_Key"],
                name=str(e.get("Description") or ""),
                version=e.get("DataVersion"),
                deleted=bool(e.get("DeletionMark")),
            )
            for e in page
        ]


def phones(entity: Entity, profile: Profile) -> tuple[str, ...]:
    """The phone rows of the contact-information table part, as written."""
    rows = entity.get(profile.contact_info) or []
    return tuple(
        str(r.get("Представление") or r.get("НомерТелефона") or "")
        for r in sorted(rows, key=lambda r: int(r.get("LineNumber") or 0))
        if r.get("Тип") == profile.phone_type and (r.get("Представление") or r.get("НомерТелефона"))
    )


def client_fields(profile: Profile) -> tuple[str, ...]:
    """What is read of a client card: a BP 3.0 counterparty or a UT 11 partner."""
    manager = (profile.manager_field,) if profile.manager_field else ()
    if profile.partners is None:
        return (*_BASE, "Code", profile.tax_field, profile.contact_info, *manager)
    return (*_BASE, "Code", profile.contact_info, *manager)


def legal_fields(profile: Profile) -> tuple[str, ...]:
    """What is read of a UT 11 counterparty (a partner's legal entity)."""
    return (*_BASE, "Code", profile.tax_field, profile.contact_info, profile.partner_field)


def clients(client: ODataClient, profile: Profile) -> Iterator[list[ExternalClient]]:
    """UT 11: partners with their counterparties' tax id, code and phones; BP 3.0: counterparties."""
    if profile.partners is None:
        for page in client.pages(profile.counterparties, select=client_fields(profile)):
            yield [client_row(e, [], profile) for e in page]
        return
    legal: dict[str, list[Entity]] = defaultdict(list)
    for page in client.pages(profile.counterparties, select=legal_fields(profile)):
        for e in page:
            if (partner := ref_of(e, profile.partner_field)) is not None:
                legal[partner].append(e)
    for page in client.pages(profile.partners, select=client_fields(profile)):
        yield [client_row(e, legal.get(e["Ref_Key"], []), profile) for e in page]


def client_version(own: str, legal: Iterable[str]) -> str:
    """One version for a client read from several objects: changes when any of them is written.

    A BP 3.0 counterparty (no legal entities) keeps its own ``DataVersion``; a UT 11 partner with its
    counterparties gets a digest of all their versions (any number of them fits the stored 64 characters).

    >>> client_version("AAAAAQ==", [])
    'AAAAAQ=='
    >>> client_version("A", ["C", "B"]) == client_version("A", ["B", "C"]) != client_version("A", ["B"])
    True
    """
    others = sorted(legal)
    if not others:
        return own
    return hashlib.blake2b("/".join([own, *others]).encode(), digest_size=20).hexdigest()


def client_row(entity: Entity, legal: list[Entity], profile: Profile) -> ExternalClient:
    legal = sorted(legal, key=lambda e: (bool(e.get("DeletionMark")), str(e.get("Code") or "")))
    tax_id = next((t for e in legal if (t := text_of(e, profile.tax_field))), None)
    all_phones = phones(entity, profile) + tuple(p for e in legal for p in phones(e, profile))
    return ExternalClient(
        ref=entity["Ref_Key"],
        name=text_of(entity, "Description") or "",
        code=text_of(entity, "Code"),
        tax_id=tax_id or text_of(entity, profile.tax_field),
        manager_ref=ref_of(entity, profile.manager_field),
        phones=tuple(dict.fromkeys(all_phones)),
        version=client_version(
            str(entity.get("DataVersion") or ""), (str(e.get("DataVersion") or "") for e in legal)
        ),
        deleted=bool(entity.get("DeletionMark")),
    )


def contact_fields(profile: Profile) -> tuple[str, ...]:
    position = (profile.contact_position,) if profile.contact_position else ()
    return (*_BASE, profile.contact_owner, profile.contact_info, *position)


def contacts(client: ODataClient, profile: Profile) -> Iterator[list[ExternalContact]]:
    if profile.contacts is None:
        return
    for page in client.pages(profile.contacts, select=contact_fields(profile)):
        yield [contact_row(e, profile) for e in page]


def contact_row(entity: Entity, profile: Profile) -> ExternalContact:
    return ExternalContact(
        ref=entity["Ref_Key"],
        client_ref=ref_of(entity, profile.contact_owner) or "",
        name=text_of(entity, "Description") or "",
        position=text_of(entity, profile.contact_position),
        phones=phones(entity, profile),
        version=entity.get("DataVersion"),
        deleted=bool(entity.get("DeletionMark")),
    )


def products(client: ODataClient, profile: Profile) -> dict[str, str]:
    names: dict[str, str] = {}
    for page in client.pages(profile.products, select=("Ref_Key", "Description")):
        names.update((e["Ref_Key"], str(e.get("Description") or "")) for e in page)
    return names


def window_filter(since: date) -> str:
    return f"Date ge datetime'{since.isoformat()}T00:00:00'"


def document_sets(profile: Profile) -> list[tuple[str, bool]]:
    """The document entity sets with whether they hold returns: sales, then returns."""
    return [(profile.sales, False)] + ([(profile.returns, True)] if profile.returns else [])


def document_fields(profile: Profile) -> tuple[str, ...]:
    return (
        "Ref_Key",
        "DataVersion",
        "DeletionMark",
        "Posted",
        "Date",
        profile.document_client,
        profile.goods,
    )


def documents(
    client: ODataClient, profile: Profile, since: date, names: dict[str, str]
) -> Iterator[list[ExternalDocument]]:
    """Sales, then returns, dated from ``since``, with their goods lines."""
    for entity_set, is_return in document_sets(profile):
        for page in client.pages(entity_set, select=document_fields(profile), filter_=window_filter(since)):
            yield [document_row(e, profile, is_return, names) for e in page]


def document_row(
    entity: Entity, profile: Profile, is_return: bool, names: dict[str, str]
) -> ExternalDocument:
    lines = tuple(
        ExternalLine(
            number=int(row.get("LineNumber") or 0),
            product=names.get(str(row.get(profile.product_field)), str(row.get(profile.product_field) or "")),
            quantity=Decimal(str(row.get(profile.quantity_field) or 0)),
            amount=Decimal(str(row.get(profile.amount_field) or 0)),
        )
        for row in entity.get(profile.goods) or []
    )
    return ExternalDocument(
        ref=entity["Ref_Key"],
        client_ref=ref_of(entity, profile.document_client),
        on=datetime.fromisoformat(str(entity["Date"])).date(),
        posted=bool(entity.get("Posted")),
        is_return=is_return,
        lines=lines,
        version=entity.get("DataVersion"),
        deleted=bool(entity.get("DeletionMark")),
    )
