"""1C-shaped entities for the stand-in: what a UT 11 or BP 3.0 publication returns for each object.

References are GUID strings (``<Name>_Key``, the empty GUID for "none"), ``LineNumber`` is an Edm.Int64
and so a JSON string, ``DataVersion`` an opaque string that changes on every write.
"""

from __future__ import annotations

import base64
import uuid
from itertools import count
from typing import Any

from erp_bridge.onec.client import EMPTY_REF
from erp_bridge.onec.profiles import Profile

Entity = dict[str, Any]
_versions = count(1)


def new_ref() -> str:
    return str(uuid.uuid4())


def version() -> str:
    """A fresh ``DataVersion`` (1C sends an opaque base64 string)."""
    return base64.b64encode(next(_versions).to_bytes(8, "big")).decode()


def touch(entity: Entity) -> Entity:
    entity["DataVersion"] = version()
    return entity


def contact_info(*phones: str) -> list[Entity]:
    return [
        {
            "LineNumber": str(i),
            "Тип": "Телефон",
            "Вид_Key": new_ref(),
            "Представление": text,
            "НомерТелефона": "",
        }
        for i, text in enumerate(phones, start=1)
    ] + [
        {
            "LineNumber": str(len(phones) + 1),
            "Тип": "АдресЭлектроннойПочты",
            "Представление": "info@example.ru",
        }
    ]


def user(name: str, ref: str | None = None) -> Entity:
    return {
        "Ref_Key": ref or new_ref(),
        "DataVersion": version(),
        "DeletionMark": False,
        "Description": name,
        "Недействителен": False,
    }


def partner(name: str, code: str, manager_ref: str | None, *phones: str, ref: str | None = None) -> Entity:
    return {
        "Ref_Key": ref or new_ref(),
        "DataVersion": version(),
        "DeletionMark": False,
        "Description": name,
        "Code": code,
        "ОсновнойМенеджер_Key": manager_ref or EMPTY_REF,
        "КонтактнаяИнформация": contact_info(*phones),
    }


def counterparty(name: str, code: str, tax_id: str, partner_ref: str | None, *phones: str) -> Entity:
    return {
        "Ref_Key": new_ref(),
        "DataVersion": version(),
        "DeletionMark": False,
        "Description": name,
        "Code": code,
        "ИНН": tax_id,
        "Партнер_Key": partner_ref or EMPTY_REF,
        "КонтактнаяИнформация": contact_info(*phones),
    }


def bp30_counterparty(name: str, code: str, tax_id: str, manager_ref: str | None, *phones: str) -> Entity:
    """A BP 3.0 counterparty: no partner; the person responsible for it in ``Ответственный_Key``."""
    return {
        "Ref_Key": new_ref(),
        "DataVersion": version(),
        "DeletionMark": False,
        "Description": name,
        "Code": code,
        "ИНН": tax_id,
        "КПП": "" if len(tax_id) == 12 else "770101001",
        "ЮридическоеФизическоеЛицо": "ФизическоеЛицо" if len(tax_id) == 12 else "ЮридическоеЛицо",
        "Ответственный_Key": manager_ref or EMPTY_REF,
        "КонтактнаяИнформация": contact_info(*phones),
    }


def contact(profile: Profile, owner_ref: str, name: str, position: str, *phones: str) -> Entity:
    entity: Entity = {
        "Ref_Key": new_ref(),
        "DataVersion": version(),
        "DeletionMark": False,
        "Description": name,
        profile.contact_owner: owner_ref,
        "КонтактнаяИнформация": contact_info(*phones),
    }
    if profile.contact_position:
        entity[profile.contact_position] = position
    if profile.contact_owner == "ОбъектВладелец":
        entity["ОбъектВладелец_Type"] = "StandardODATA.Catalog_Контрагенты"
    return entity


def product(name: str) -> Entity:
    return {"Ref_Key": new_ref(), "DataVersion": version(), "DeletionMark": False, "Description": name}


def document(
    profile: Profile, client_ref: str, on: str, lines: list[tuple[str, float, float]], *, posted: bool = True
) -> Entity:
    """A sale or return dated ``on`` (``2026-11-20``) with goods lines (product ref, quantity, amount)."""
    return {
        "Ref_Key": new_ref(),
        "DataVersion": version(),
        "DeletionMark": False,
        "Number": "0000-000001",
        "Date": f"{on}T10:00:00",
        "Posted": posted,
        profile.document_client: client_ref,
        profile.goods: [
            {
                "LineNumber": str(i),
                profile.product_field: p,
                profile.quantity_field: q,
                profile.amount_field: a,
            }
            for i, (p, q, a) in enumerate(lines, start=1)
        ],
    }
