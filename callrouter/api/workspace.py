"""The managers' web workspace: one static page (HTML + vanilla JS + CSS) over the JSON API.

Served from the installed package (``callrouter/api/static``), no build step and nothing from a CDN. The
page keeps its access token in ``sessionStorage``; the Content-Security-Policy allows only this origin's
scripts and styles, so injected markup could not run even if it reached the page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@router.get("/workspace")
def workspace_page() -> FileResponse:
    """The single page; its scripts and styles come from ``/workspace/static``."""
    return FileResponse(STATIC_DIR / "workspace.html", media_type="text/html", headers=SECURITY_HEADERS)


def mount_workspace(app: FastAPI) -> None:
    """Add the page and its static assets to ``app``."""
    app.include_router(router)
    app.mount("/workspace/static", StaticFiles(directory=STATIC_DIR), name="workspace-static")
