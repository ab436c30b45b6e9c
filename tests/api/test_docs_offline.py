"""/docs and /redoc work on a PBX host without internet: every asset they load is served by the app."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callrouter.api.app import create_app
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.db import make_engine, make_session_factory

# what the browser needs in order to draw each page, and the least size of a real bundle
ASSETS = {"/docs": {"script": 500_000, "stylesheet": 50_000}, "/redoc": {"script": 500_000}}


class _References(HTMLParser):
    """Every URL an HTML page makes the browser load: src=, href=, and ReDoc's spec-url=."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (kind, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href", "spec-url"):
            url = values.get(name)
            if url:
                kind = "script" if tag == "script" else values.get("rel") or name
                self.urls.append((kind, url))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'docs.db'}"  # never opened: the pages need no database
    engine = make_engine(url)
    container = Container(settings=Settings(env="development", database_url=url), engine=engine,
                          sessions=make_session_factory(engine))  # fmt: skip
    with TestClient(create_app(container), base_url="http://pbx.local:8000") as test_client:
        yield test_client
    engine.dispose()


@pytest.mark.parametrize("page", sorted(ASSETS))
def test_every_asset_of_the_page_is_served_by_the_app(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert "http://" not in response.text and "https://" not in response.text, "no other host, not even fonts"
    parser = _References()
    parser.feed(response.text)
    assert parser.urls, "the page loads its assets by src/href"
    kinds: dict[str, int] = {}
    for kind, url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not same-origin"
        asset = client.get(url)
        assert asset.status_code == 200, url
        kinds[kind] = max(kinds.get(kind, 0), len(asset.content))
    for kind, least in ASSETS[page].items():
        assert kinds.get(kind, 0) >= least, f"{page}: no real {kind} bundle served ({kinds})"
    spec = [url for kind, url in parser.urls if kind == "spec-url"] or ["/openapi.json"]
    assert client.get(spec[0]).json()["info"]["title"] == "callrouter"
