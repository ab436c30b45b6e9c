"""1C entities (OData JSON) -> the typed rows crm_core applies, per profile."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from crm_core.syncing import ExternalClient, ExternalContact, ExternalDocument, ExternalLine, ExternalUser
from erp_bridge.onec.client import Entity, ODataClient, ref_or_none
from erp_bridge.onec.profiles import Profile

_BASE = ("Ref_Key", "DataVersion", "DeletionMark", "Description")


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


def clients(client: ODataClient, profile: Profile) -> Iterator[list[ExternalClient]]:
    """UT 11: partners with their counterparties' tax id, code and phones; BP 3.0: counterparties."""
    fields = (*_BASE, "Code", profile.tax_field, profile.contact_info)
    if profile.partners is None:
        extra = (profile.manager_field,) if profile.manager_field else ()
        for page in client.pages(profile.counterparties, select=(*fields, *extra)):
            yield [_client(e, [], profile) for e in page]
        return
    legal: dict[str, list[Entity]] = defaultdict(list)
    for page in client.pages(profile.counterparties, select=(*fields, profile.partner_field)):
        for e in page:
            if (partner := ref_or_none(e.get(profile.partner_field))) is not None:
                legal[partner].append(e)
    select = (
        *_BASE,
        "Code",
        profile.contact_info,
        *((profile.manager_field,) if profile.manager_field else ()),
    )
    for page in client.pages(profile.partners, select=select):
        yield [_client(e, legal.get(e["Ref_Key"], []), profile) for e in page]


def _client(entity: Entity, legal: list[Entity], profile: Profile) -> ExternalClient:
    legal = sorted(legal, key=lambda e: (bool(e.get("DeletionMark")), str(e.get("Code") or "")))
    tax_id = next((str(e[profile.tax_field]).strip() for e in legal if e.get(profile.tax_field)), None)
    if tax_id is None and entity.get(profile.tax_field):
        tax_id = str(entity[profile.tax_field]).strip()
    versions = [str(entity.get("DataVersion") or "")] + [str(e.get("DataVersion") or "") for e in legal]
    all_phones = phones(entity, profile) + tuple(p for e in legal for p in phones(e, profile))
    return ExternalClient(
        ref=entity["Ref_Key"],
        name=str(entity.get("Description") or "").strip(),
        code=str(entity.get("Code") or "").strip() or None,
        tax_id=tax_id or None,
        manager_ref=ref_or_none(entity.get(profile.manager_field)) if profile.manager_field else None,
        phones=tuple(dict.fromkeys(all_phones)),
        version="/".join(versions),
        deleted=bool(entity.get("DeletionMark")),
    )


def contacts(client: ODataClient, profile: Profile) -> Iterator[list[ExternalContact]]:
    if profile.contacts is None:
        return
    position = (profile.contact_position,) if profile.contact_position else ()
    select = (*_BASE, profile.contact_owner, profile.contact_info, *position)
    for page in client.pages(profile.contacts, select=select):
        yield [
            ExternalContact(
                ref=e["Ref_Key"],
                client_ref=str(ref_or_none(e.get(profile.contact_owner)) or ""),
                name=str(e.get("Description") or "").strip(),
                position=(str(e.get(profile.contact_position) or "").strip() or None)
                if profile.contact_position
                else None,
                phones=phones(e, profile),
                version=e.get("DataVersion"),
                deleted=bool(e.get("DeletionMark")),
            )
            for e in page
        ]


def products(client: ODataClient, profile: Profile) -> dict[str, str]:
    names: dict[str, str] = {}
    for page in client.pages(profile.products, select=("Ref_Key", "Description")):
        names.update((e["Ref_Key"], str(e.get("Description") or "")) for e in page)
    return names


def window_filter(since: date) -> str:
    return f"Date ge datetime'{since.isoformat()}T00:00:00'"


def documents(
    client: ODataClient, profile: Profile, since: date, names: dict[str, str]
) -> Iterator[list[ExternalDocument]]:
    """Sales, then returns, dated from ``since``, with their goods lines."""
    kinds = [(profile.sales, False)] + ([(profile.returns, True)] if profile.returns else [])
    select = (
        "Ref_Key",
        "DataVersion",
        "DeletionMark",
        "Posted",
        "Date",
        profile.document_client,
        profile.goods,
    )
    for entity_set, is_return in kinds:
        for page in client.pages(entity_set, select=select, filter_=window_filter(since)):
            yield [_document(e, profile, is_return, names) for e in page]


def _document(entity: Entity, profile: Profile, is_return: bool, names: dict[str, str]) -> ExternalDocument:
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
        client_ref=ref_or_none(entity.get(profile.document_client)),
        on=datetime.fromisoformat(str(entity["Date"])).date(),
        posted=bool(entity.get("Posted")),
        is_return=is_return,
        lines=lines,
        version=entity.get("DataVersion"),
        deleted=bool(entity.get("DeletionMark")),
    )


def refs(documents_: Iterable[ExternalDocument]) -> list[str]:
    return [d.ref for d in documents_]
