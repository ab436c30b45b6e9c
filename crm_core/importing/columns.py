"""The documented CSV formats: canonical column names, their header aliases and value aliases.

Header aliases are compared after :func:`~crm_core.importing.csv_source.header_key` (case, spaces,
``_``/``-``/``.`` and ``ё`` do not matter), so ``Phone_Numbers``, ``phone numbers`` and ``Телефоны`` all
name the ``phones`` column; several phone columns (``Телефон``, ``Телефон 2``, ``Мобильный``) all count.
"""

from __future__ import annotations

from collections.abc import Mapping

from crm_core.importing.csv_source import header_key
from crm_core.models.enums import ClientStatus, ManagerRole


def _aliases(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {
        header_key(alias): canonical for canonical, names in table.items() for alias in (canonical, *names)
    }


COUNTERPARTY_COLUMNS = _aliases(
    {
        "external_id": ("id", "code", "guid", "код", "внешний код", "внешний id", "идентификатор"),
        "name": ("company", "client", "counterparty", "наименование", "название", "контрагент", "клиент"),
        "tax_id": ("inn", "tin", "vat", "инн"),
        "phones": (
            "phone",
            "phone number",
            "phone numbers",
            "telephone",
            "mobile",
            "mobile phone",
            "cell",
            "cell phone",
            "work phone",
            "office phone",
            "home phone",
            "other phone",
            "fax",
            "телефон",
            "телефоны",
            "тел",
            "номер телефона",
            "мобильный",
            "мобильный телефон",
            "сотовый",
            "сотовый телефон",
            "рабочий телефон",
            "домашний телефон",
            "контактный телефон",
            "дополнительный телефон",
            "доп телефон",
            "факс",
        ),
        "region": ("регион", "область"),
        "manager": ("manager login", "менеджер", "логин менеджера", "ответственный", "основной менеджер"),
        "status": ("client status", "статус", "статус клиента"),
        "notes": ("note", "comment", "comments", "комментарий", "примечание", "заметки"),
        "last_contact_on": (
            "last contact",
            "last contact date",
            "last contacted",
            "последний контакт",
            "дата последнего контакта",
            "последний звонок",
        ),
    }
)
COUNTERPARTY_REQUIRED = frozenset({"name"})
COUNTERPARTY_REPEATABLE = frozenset({"phones"})
"""Every phone column counts (``Телефон``, ``Телефон 2``, ``Мобильный``...), each may hold several numbers."""

MANAGER_COLUMNS = _aliases(
    {
        "login": ("user", "username", "логин", "пользователь"),
        "name": ("full name", "имя", "фио", "сотрудник"),
        "extension": ("ext", "внутренний номер", "добавочный"),
        "dial_target": ("dial", "channel", "канал"),
        "pbx": ("атс",),
        "mobile": ("mobile phone", "cell", "мобильный", "мобильный телефон", "сотовый"),
        "email": ("e mail", "mail", "почта", "электронная почта"),
        "role": ("роль",),
        "controller": ("controller login", "контролер", "руководитель"),
    }
)
MANAGER_REQUIRED = frozenset({"login", "name"})

STATUS_VALUES: dict[str, ClientStatus] = {
    header_key(alias): status
    for status, names in {
        ClientStatus.POTENTIAL: ("потенциальный",),
        ClientStatus.ONE_TIME_FRESH: ("разовый свежий", "разовый новый"),
        ClientStatus.REGULAR: ("постоянный",),
        ClientStatus.ONE_TIME_OLD: ("разовый старый",),
        ClientStatus.DEPARTED: ("ушедший", "ушел"),
    }.items()
    for alias in (status.value, *names)
}

ROLE_VALUES: dict[str, ManagerRole] = {
    header_key(alias): role
    for role, names in {
        ManagerRole.MANAGER: ("менеджер",),
        ManagerRole.CONTROLLER: ("контролер",),
        ManagerRole.DIRECTOR: ("директор",),
        ManagerRole.ADMIN: ("administrator", "админ", "администратор"),
        ManagerRole.RECEPTION: ("ресепшн", "ресепшен", "секретарь"),
    }.items()
    for alias in (role.value, *names)
}
