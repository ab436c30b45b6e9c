"""The OData client against the stand-in: envelopes, paging, retries and clear errors."""
# ruff: noqa: RUF001  (Cyrillic 1C data is intended)

from __future__ import annotations

import httpx
import pytest

from erp_bridge.onec.client import EMPTY_REF, ODataClient, ref_or_none
from erp_bridge.onec.errors import OneCError
from tests.onec.conftest import LOGIN, PASSWORD, Base1C


def test_atom_xml_unless_json_is_asked_for(base1c: Base1C) -> None:
    url = f"{base1c.server.url}/odata/standard.odata/{base1c.profile.users}"
    auth = httpx.BasicAuth(LOGIN.encode(), PASSWORD.encode())
    atom = httpx.get(url, auth=auth)
    assert atom.headers["content-type"].startswith("application/atom+xml") and "<feed" in atom.text
    json_answer = httpx.get(url, params={"$format": "json"}, auth=auth).json()
    assert json_answer["odata.metadata"].endswith(f"$metadata#{base1c.profile.users}")
    assert len(json_answer["value"]) == 2


def test_pages_over_stable_order_and_count_as_string(base1c: Base1C) -> None:
    with base1c.client() as client:
        pages = list(client.pages(base1c.profile.users, page_size=1, select=("Ref_Key", "Description")))
        assert [len(p) for p in pages] == [1, 1]
        refs = [p[0]["Ref_Key"] for p in pages]
        assert refs == sorted(refs) and set(pages[0][0]) == {"Ref_Key", "Description"}
        assert client.count(base1c.profile.users) == 2


def test_wrong_password_is_a_clear_error(base1c: Base1C) -> None:
    with base1c.client(password="wrong") as client, pytest.raises(OneCError) as caught:
        list(client.pages(base1c.profile.users))
    assert caught.value.code == "wrong-password"


def test_unpublished_object_names_it(base1c: Base1C) -> None:
    with base1c.client() as client, pytest.raises(OneCError) as caught:
        list(client.pages("Catalog_НеОпубликовано"))
    assert caught.value.code == "not-published"
    assert "Catalog_НеОпубликовано" in caught.value.message and "Не найден объект" in caught.value.message


def test_bad_filter_is_reported(base1c: Base1C) -> None:
    with base1c.client() as client, pytest.raises(OneCError) as caught:
        list(client.pages(base1c.profile.users, filter_="Description startswith 'x'"))
    assert caught.value.code == "bad-request"


def test_server_errors_are_retried(base1c: Base1C) -> None:
    failures = iter([True, False])
    base1c.server.fail = lambda entity_set, skip: next(failures, False)
    with base1c.client() as client:
        assert len(next(client.pages(base1c.profile.users))) == 2
    assert base1c.server.requests.count(base1c.profile.users) == 2


def test_unreachable_1c_is_an_error_after_retries() -> None:
    with (
        ODataClient("http://127.0.0.1:9", "u", "p", attempts=2, timeout_s=1) as client,
        pytest.raises(OneCError) as caught,
    ):
        list(client.pages("Catalog_Пользователи"))
    assert caught.value.code == "unreachable"


def test_empty_reference_reads_as_none() -> None:
    assert ref_or_none(EMPTY_REF) is None and ref_or_none("") is None
    assert ref_or_none("0b4b1e3a-1111-2222-3333-444455556666") == "0b4b1e3a-1111-2222-3333-444455556666"
