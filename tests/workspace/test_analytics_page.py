"""GET /workspace/analytics: language, safe headers, own assets, only real API paths."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from callrouter.api.workspace import STATIC_DIR
from tests.workspace.test_page import _Assets, _template

SCRIPT = (STATIC_DIR / "js" / "analytics.js").read_text(encoding="utf-8")


def test_page_is_russian_by_default_with_the_workspace_headers(client: TestClient) -> None:
    page = client.get("/workspace/analytics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="ru">' in page.text and "Клиенты по статусам" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    english = client.get("/workspace/analytics", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.text and ">Clients by status<" in english.text


def test_every_asset_is_served_from_this_origin(client: TestClient) -> None:
    parser = _Assets()
    parser.feed(client.get("/workspace/analytics").text)
    assert sorted(parser.urls) == [
        "/workspace/static/analytics.css",
        "/workspace/static/favicon.svg",
        "/workspace/static/js/analytics.js",
        "/workspace/static/workspace.css",
    ]
    for url in [*parser.urls, "/workspace/static/js/charts.js"]:
        assert client.get(url).status_code == 200, url


def test_the_workspace_links_the_page_for_supervisors_only(client: TestClient) -> None:
    link = re.search(r'<a href="/workspace/analytics"[^>]*>', client.get("/workspace").text)
    assert link is not None and 'data-roles="controller director admin"' in link.group(0)


def test_every_api_path_the_page_reads_exists(app: FastAPI) -> None:
    read = set(re.findall(r"""[`"](/(?:analytics|managers|me)[a-z/-]*)""", SCRIPT))
    paths = {"/api/v1" + path for path in read}
    templates = [_template(path) for path in app.openapi()["paths"]]
    missing = {path for path in paths if not any(t.match(path) for t in templates)}
    assert not missing
    assert {
        "/api/v1/analytics/status-distribution",
        "/api/v1/analytics/status-transitions",
        "/api/v1/analytics/abc-xyz",
        "/api/v1/analytics/funnel",
        "/api/v1/analytics/callback-trend",
        "/api/v1/analytics/forgotten",
        "/api/v1/analytics/kpi",
    } <= paths
