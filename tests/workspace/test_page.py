"""GET /workspace and its assets: right types, safe headers, and only real API paths called."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from callrouter.api.workspace import STATIC_DIR


class _Assets(HTMLParser):
    """Collects the ``src`` / ``href`` of scripts and stylesheets."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = values.get("src") if tag == "script" else values.get("href") if tag == "link" else None
        if url:
            self.urls.append(url)


@pytest.fixture
def page(client: TestClient) -> str:
    response = client.get("/workspace")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_page_is_html_with_a_strict_content_security_policy(client: TestClient) -> None:
    headers = client.get("/workspace").headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"


def test_every_asset_the_page_links_is_served_with_its_type(client: TestClient, page: str) -> None:
    parser = _Assets()
    parser.feed(page)
    assert sorted(parser.urls) == ["/workspace/static/workspace.css", "/workspace/static/workspace.js"]
    types = {url: client.get(url).headers["content-type"] for url in parser.urls}
    assert "javascript" in types["/workspace/static/workspace.js"]
    assert types["/workspace/static/workspace.css"].startswith("text/css")


def test_no_asset_comes_from_another_origin(page: str) -> None:
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)


def test_unknown_assets_are_404(client: TestClient) -> None:
    assert client.get("/workspace/static/nothing.js").status_code == 404
    assert client.get("/workspace/static/../app.py").status_code == 404


def test_script_never_inserts_markup() -> None:
    """Data reaches the DOM as text only: no innerHTML, outerHTML, insertAdjacentHTML or document.write."""
    script = (STATIC_DIR / "workspace.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(", script)
    assert "textContent" in script and "createTextNode" in script


def _template(path: str) -> re.Pattern[str]:
    """``/missed-calls/{missed_id}/resolution`` matches ``/missed-calls/7/resolution``."""
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


def test_every_api_call_in_the_script_exists(app: FastAPI) -> None:
    """The page only calls endpoints the API really has (with the method it uses)."""
    script = (STATIC_DIR / "workspace.js").read_text(encoding="utf-8")
    literals = [text for _, text in re.findall(r"""api\(\s*([`"])(.*?)\1""", script)]
    assert len(literals) >= 10
    # drop the query string (``${query(...)}``), then stand an id in for every other ``${...}``
    paths = {"/api/v1" + re.sub(r"\$\{[^}]+\}", "1", text.split("${query")[0]) for text in literals}
    templates = [_template(path) for path in app.openapi()["paths"]]
    missing = [path for path in paths if not any(t.match(path) for t in templates)]
    assert missing == []
    needed_paths = (
        "/api/v1/calls/click-to-call",
        "/api/v1/missed-calls",
        "/api/v1/auth/login",
        "/api/v1/notifications",
    )
    for needed in needed_paths:
        assert needed in paths


def test_whatsapp_links_use_digits_only() -> None:
    script = (STATIC_DIR / "workspace.js").read_text(encoding="utf-8")
    assert "https://wa.me/${digits}" in script
    assert 'replace(/\\D/g, "")' in script
