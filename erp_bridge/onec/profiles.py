"""Where each idea lives in a configuration: ``ut11`` (Управление торговлей 11), ``bp30`` (Бухгалтерия 3.0).

UT 11 keeps the client as a partner (``Catalog_Партнеры``, with ``ОсновнойМенеджер_Key``) and its legal
entities as counterparties (``Партнер_Key``, ``ИНН``); BP 3.0 has counterparties only, with the user
responsible for the client in ``Ответственный_Key`` (current releases; older ones lack it: a mapping file
with ``manager_field = ""``), contact persons in ``Catalog_КонтактныеЛица`` owned through
``ОбъектВладелец`` and returns as ``Document_ВозвратТоваровОтПокупателя``. A mapping file (TOML) starts
from one profile and overrides fields.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Profile:
    name: str
    users: str = "Catalog_Пользователи"
    partners: str | None = "Catalog_Партнеры"
    counterparties: str = "Catalog_Контрагенты"
    partner_field: str = "Партнер_Key"
    tax_field: str = "ИНН"
    manager_field: str | None = "ОсновнойМенеджер_Key"
    contact_info: str = "КонтактнаяИнформация"
    phone_type: str = "Телефон"
    contacts: str | None = "Catalog_КонтактныеЛицаПартнеров"
    contact_owner: str = "Owner_Key"
    contact_position: str | None = "ДолжностьПоВизитке"
    products: str = "Catalog_Номенклатура"
    sales: str = "Document_РеализацияТоваровУслуг"
    returns: str | None = "Document_ВозвратТоваровОтКлиента"
    document_client: str = "Партнер_Key"
    goods: str = "Товары"
    product_field: str = "Номенклатура_Key"
    quantity_field: str = "Количество"
    amount_field: str = "Сумма"


UT11 = Profile(name="ut11")
BP30 = Profile(
    name="bp30",
    partners=None,
    manager_field="Ответственный_Key",
    contacts="Catalog_КонтактныеЛица",
    contact_owner="ОбъектВладелец",
    contact_position="Должность",
    returns="Document_ВозвратТоваровОтПокупателя",
    document_client="Контрагент_Key",
)
PROFILES = {p.name: p for p in (UT11, BP30)}


def load_profile(spec: str) -> Profile:
    """``ut11``, ``bp30`` or the path of a TOML mapping file (``base = "ut11"`` plus overridden fields)."""
    if spec in PROFILES:
        return PROFILES[spec]
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"unknown 1C profile {spec!r}: use ut11, bp30 or a mapping file")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    base = PROFILES.get(str(data.pop("base", "ut11")))
    if base is None:
        raise ValueError(f"{path}: base must be one of {', '.join(PROFILES)}")
    names = {f.name for f in dataclasses.fields(Profile)}
    if unknown := sorted(set(data) - names):
        raise ValueError(f"{path}: unknown fields {', '.join(unknown)}")
    return dataclasses.replace(base, name=path.stem, **data)
