"""A stand-in 1C publication (real HTTP on a free port) filled like a small UT 11 or BP 3.0 base."""
# ruff: noqa: RUF001  (Cyrillic 1C data is intended)

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest

from erp_bridge.onec import standin_data as d
from erp_bridge.onec.client import ODataClient
from erp_bridge.onec.profiles import BP30, UT11, Profile
from erp_bridge.onec.standin import StandIn1C

TODAY = date(2026, 11, 30)
LOGIN = "Администратор"
PASSWORD = "пароль"


@dataclass
class Base1C:
    """The stand-in's content, with the references the tests change."""

    server: StandIn1C
    profile: Profile
    users: dict[str, d.Entity] = field(default_factory=dict)
    clients: dict[str, d.Entity] = field(default_factory=dict)
    documents: dict[str, d.Entity] = field(default_factory=dict)

    def client(self, password: str = PASSWORD) -> ODataClient:
        return ODataClient(self.server.url, LOGIN, password, attempts=2)

    @property
    def client_set(self) -> list[d.Entity]:
        return self.server.sets[self.profile.partners or self.profile.counterparties]


def fill(server: StandIn1C, profile: Profile) -> Base1C:
    base = Base1C(server, profile)
    base.users = {"ivanov": d.user("Иванов Иван"), "petrov": d.user("Петров Пётр")}
    server.sets[profile.users] = list(base.users.values())
    widget, gear = d.product("Виджет"), d.product("Шестерня")
    server.sets[profile.products] = [widget, gear]
    if profile.partners is not None:
        romashka = d.partner(
            "Ромашка", "00001", base.users["ivanov"]["Ref_Key"], "8 (843) 123-45-67, доб. 713"
        )
        vasilek = d.partner(
            "Василёк", "00002", base.users["petrov"]["Ref_Key"], "+7 912 000-11-22", "звонить Ивану"
        )
        server.sets[profile.partners] = [romashka, vasilek]
        server.sets[profile.counterparties] = [
            d.counterparty("ООО Ромашка", "К-001", "7701234567", romashka["Ref_Key"], "+7 495 765-43-21"),
            d.counterparty("ИП Василёк", "К-002", "166012345678", vasilek["Ref_Key"]),
        ]
    else:
        romashka = d.bp30_counterparty(
            "ООО Ромашка",
            "00001",
            "7701234567",
            base.users["ivanov"]["Ref_Key"],
            "8 (843) 123-45-67, доб. 713",
            "+7 495 765-43-21",
        )
        vasilek = d.bp30_counterparty(
            "ИП Василёк",
            "00002",
            "166012345678",
            base.users["petrov"]["Ref_Key"],
            "+7 912 000-11-22",
            "звонить Ивану",
        )
        server.sets[profile.counterparties] = [romashka, vasilek]
    base.clients = {"romashka": romashka, "vasilek": vasilek}
    assert profile.contacts is not None
    server.sets[profile.contacts] = [
        d.contact(profile, romashka["Ref_Key"], "Анна Смирнова", "Закупщик", "+7 903 111-22-33")
    ]
    base.documents = {
        "sale": d.document(
            profile,
            romashka["Ref_Key"],
            "2026-11-20",
            [(widget["Ref_Key"], 2, 1000.0), (gear["Ref_Key"], 5, 250.5)],
        ),
        "draft": d.document(
            profile, vasilek["Ref_Key"], "2026-11-25", [(gear["Ref_Key"], 1, 50.0)], posted=False
        ),
        "old": d.document(profile, vasilek["Ref_Key"], "2026-01-10", [(gear["Ref_Key"], 1, 50.0)]),
        "return": d.document(profile, romashka["Ref_Key"], "2026-11-22", [(widget["Ref_Key"], 1, 500.0)]),
    }
    server.sets[profile.sales] = [base.documents[k] for k in ("sale", "draft", "old")]
    assert profile.returns is not None
    server.sets[profile.returns] = [base.documents["return"]]
    return base


@pytest.fixture(params=["ut11", "bp30"])
def base1c(request: pytest.FixtureRequest) -> Iterator[Base1C]:
    profile = UT11 if request.param == "ut11" else BP30
    with StandIn1C(base=f"/{profile.name}", username=LOGIN, password=PASSWORD) as server:
        yield fill(server, profile)
