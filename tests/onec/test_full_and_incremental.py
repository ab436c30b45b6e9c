"""Incremental runs read only what changed; the nightly full run re-applies everything and finds deletions."""
# ruff: noqa: RUF001, RUF003  (Cyrillic 1C data is intended)

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models import ContactPerson, Counterparty, PhoneNumber
from crm_core.syncing import SyncReport, last_run
from erp_bridge.onec import changes
from erp_bridge.onec import standin_data as d
from erp_bridge.onec.sync import SyncOptions, run_sync
from tests.onec.conftest import TODAY, Base1C
from tests.onec.test_sync import card, client_name, sync

FULL = SyncOptions(region="RU", today=TODAY, full=True)


def full_sync(sessions: sessionmaker[Session], base: Base1C) -> SyncReport:
    with base.client() as client:
        return run_sync(sessions, client, base.profile, FULL)


def whole_reads(base: Base1C, entity_set: str) -> int:
    """Requests that read ``entity_set`` whole: no filter, more than the scan's two fields."""
    return sum(
        1
        for name, params in base.server.queries
        if name == entity_set and "$filter" not in params and params.get("$select", "").count(",") > 1
    )


@pytest.fixture(params=["by-refs", "whole-set"])
def read_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways an incremental run reads the changed objects (few changed, or most of the set)."""
    if request.param == "whole-set":
        monkeypatch.setattr(changes, "MIN_BY_REFS", 0)
        monkeypatch.setattr(changes, "SHARE_BY_REFS", 0.0)
    return str(request.param)


def test_incremental_run_reads_only_the_changed_client(
    sessions: sessionmaker[Session], base1c: Base1C, read_mode: str
) -> None:
    full_sync(sessions, base1c)
    romashka = base1c.clients["romashka"]
    d.touch(romashka)["Description"] = "Ромашка и К"
    base1c.server.queries.clear()
    report = sync(sessions, base1c)
    assert report.of("clients").updated == 1 and report.of("clients").unchanged == 1
    assert report.of("documents").unchanged == 3
    card_set = base1c.profile.partners or base1c.profile.counterparties
    filters = [p.get("$filter", "") for name, p in base1c.server.queries if name == card_set]
    if read_mode == "by-refs":
        assert whole_reads(base1c, card_set) == 0
        assert filters.count(f"Ref_Key eq guid'{romashka['Ref_Key']}'") == 1
        assert whole_reads(base1c, base1c.profile.sales) == 0  # the window's documents: scanned only
    else:
        assert whole_reads(base1c, card_set) == 1
    with sessions() as s:
        assert card(s, "Ромашка и К").external_id == romashka["Ref_Key"]
        run = last_run(s, "1c")
        assert run is not None and run["kind"] == "incremental"


@pytest.mark.parametrize("base1c", ["ut11"], indirect=True)  # BP 3.0 has no partners
def test_incremental_run_sees_a_changed_counterparty_of_a_partner(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    full_sync(sessions, base1c)
    legal = base1c.server.sets[base1c.profile.counterparties][0]  # ООО Ромашка, Ромашка's
    d.touch(legal)["ИНН"] = "7701234500"
    report = sync(sessions, base1c)
    assert report.of("clients").updated == 1
    with sessions() as s:
        assert card(s, client_name(base1c, "romashka")).tax_id == "7701234500"


def test_full_run_puts_back_what_1c_owns_and_an_incremental_one_does_not(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    full_sync(sessions, base1c)
    name = client_name(base1c, "romashka")
    with sessions() as s:
        romashka = card(s, name)
        romashka.name = "переименовали вручную"
        s.execute(PhoneNumber.__table__.delete().where(PhoneNumber.e164 == "+74957654321"))
        s.commit()
    sync(sessions, base1c)
    with sessions() as s:
        assert s.get(Counterparty, romashka.id).name == "переименовали вручную"  # type: ignore[union-attr]
    report = full_sync(sessions, base1c)
    assert report.of("clients").updated == 1
    with sessions() as s:
        assert s.get(Counterparty, romashka.id).name == name  # type: ignore[union-attr]
        restored = s.scalars(select(PhoneNumber).where(PhoneNumber.e164 == "+74957654321")).one()
        assert restored.counterparty_id == romashka.id
        run = last_run(s, "1c")
        assert run is not None and run["kind"] == "full"


def test_full_run_archives_a_client_and_removes_a_contact_deleted_outright(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    full_sync(sessions, base1c)
    card_set = base1c.server.sets[base1c.profile.partners or base1c.profile.counterparties]
    card_set.remove(base1c.clients["romashka"])
    base1c.server.sets[base1c.profile.contacts or ""].clear()
    incremental = sync(sessions, base1c)
    assert incremental.of("clients").archived == 0
    report = full_sync(sessions, base1c)
    assert report.of("clients").archived == 1 and report.of("contacts").removed == 1
    with sessions() as s:
        romashka = card(s, client_name(base1c, "romashka"))
        assert romashka.archived_at is not None  # kept with its history
        assert s.scalar(select(func.count()).select_from(ContactPerson)) == 0
    again = full_sync(sessions, base1c)
    assert again.of("clients").archived == 0
    assert [str(p) for p in again.problems if "unreadable phone" not in str(p)] == []


def test_gone_asks_1c_about_each_missing_reference(base1c: Base1C) -> None:
    card_set = base1c.profile.partners or base1c.profile.counterparties
    present = base1c.clients["romashka"]["Ref_Key"]
    missing = d.new_ref()
    with base1c.client() as client:
        assert changes.gone(client, card_set, {present, missing}) == {missing}
