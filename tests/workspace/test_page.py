"""GET /workspace and its assets: language, right types, safe headers, and only real API paths called."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from callrouter.api.workspace import STATIC_DIR

SCRIPTS = sorted((STATIC_DIR / "js").glob("*.js"))


def _all_scripts() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SCRIPTS)


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
    assert sorted(parser.urls) == [
        "/workspace/static/favicon.svg",
        "/workspace/static/js/main.js",
        "/workspace/static/workspace.css",
    ]
    types = {url: client.get(url).headers["content-type"] for url in parser.urls}
    assert "javascript" in types["/workspace/static/js/main.js"]
    assert types["/workspace/static/workspace.css"].startswith("text/css")
    assert types["/workspace/static/favicon.svg"].startswith("image/svg")
    for script in SCRIPTS:
        response = client.get(f"/workspace/static/js/{script.name}")
        assert response.status_code == 200 and "javascript" in response.headers["content-type"]


def test_page_speaks_russian_by_default_and_honours_accept_language(client: TestClient) -> None:
    russian = client.get("/workspace")
    assert '<html lang="ru">' in russian.text and "Войти" in russian.text
    assert russian.headers["content-language"] == "ru"
    english = client.get("/workspace", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in english.text and ">Log in<" in english.text
    chosen = client.get("/workspace", headers={"Accept-Language": "en"}, cookies={"callrouter_lang": "ru"})
    assert '<html lang="ru">' in chosen.text


def test_scripts_get_their_texts_in_the_page_language(client: TestClient) -> None:
    page = client.get("/workspace").text
    boot = re.search(r'<script type="application/json" id="boot">(.*?)</script>', page, re.S)
    assert boot is not None
    data = json.loads(boot.group(1))
    assert data["lang"] == "ru" and data["timezone"] == "Europe/Moscow"
    assert data["messages"]["Nothing to call back. Well done."] == "Перезванивать некому. Отлично!"
    assert data["messages"]["%(num)d call"] == ["%(num)d звонок", "%(num)d звонка", "%(num)d звонков"]


def test_no_asset_comes_from_another_origin(page: str) -> None:
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)


def test_unknown_assets_are_404(client: TestClient) -> None:
    assert client.get("/workspace/static/nothing.js").status_code == 404
    assert client.get("/workspace/static/../app.py").status_code == 404


def test_script_never_inserts_markup() -> None:
    """Data reaches the DOM as text only: no innerHTML, outerHTML, insertAdjacentHTML or document.write."""
    script = _all_scripts()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(", script)
    assert "textContent" in script and "createTextNode" in script


def _template(path: str) -> re.Pattern[str]:
    """``/missed-calls/{missed_id}/resolution`` matches ``/missed-calls/7/resolution``."""
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


def test_every_api_call_in_the_script_exists(app: FastAPI) -> None:
    """The page only calls endpoints the API really has (with the method it uses)."""
    script = _all_scripts()
    literals = [text for _, text in re.findall(r"""api\(\s*([`"])(.*?)\1""", script)]
    assert len(literals) >= 10
    # drop the query string (``${query(...)}``), then stand an id in for every other ``${...}``
    bare = {re.sub(r"\$\{[^}]+\}", "1", text.split("${query")[0]) for text in literals}
    paths = {path if path.startswith("/routing/") else "/api/v1" + path for path in bare}
    templates = [_template(path) for path in app.openapi()["paths"]]
    missing = {path for path in paths if not any(t.match(path) for t in templates)}
    assert missing == set()
    needed_paths = (
        "/api/v1/calls/click-to-call",
        "/api/v1/missed-calls",
        "/api/v1/auth/login",
        "/api/v1/notifications",
    )
    for needed in needed_paths:
        assert needed in paths


def test_whatsapp_links_use_digits_only() -> None:
    script = _all_scripts()
    assert "https://wa.me/${digits}" in script
    assert 'replace(/\\D/g, "")' in script
