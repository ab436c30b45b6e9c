"""The analytics page of the workspace (``/workspace/analytics``): the director's and controller's charts.

A page of its own beside the workspace, with the same login (the token in the tab's ``sessionStorage``),
texts, headers and static files; its script draws the charts as inline SVG from the analytics API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from callrouter.api.deps import container_of
from callrouter.api.workspace import SECURITY_HEADERS, page_language, render_page

router = APIRouter(include_in_schema=False)


@router.get("/workspace/analytics", response_class=HTMLResponse)
def analytics_page(request: Request) -> HTMLResponse:
    """The analytics page in the visitor's language (the data comes from the API, scoped by role)."""
    settings = container_of(request).settings
    language = page_language(request, settings.language)
    html = render_page(language, settings.company_timezone, "analytics.html")
    headers = {**SECURITY_HEADERS, "Content-Language": language, "Vary": "Accept-Language, Cookie"}
    return HTMLResponse(html, headers=headers)
