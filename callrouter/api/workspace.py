"""The managers' and supervisors' web workspace: one server-rendered page plus small ES modules.

The page is a Jinja2 template rendered in the visitor's language (the ``callrouter_lang`` cookie the page
sets after login from the user's setting, else ``Accept-Language``, else the company language); the texts
its scripts need travel inside it as JSON. Everything is served by the app: no CDN, no build step. The
Content-Security-Policy allows only this origin's scripts and styles, so injected markup could not run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from callrouter.api.deps import container_of
from crm_core.i18n import Localizer, catalog, negotiate, supported

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LANGUAGE_COOKIE = "callrouter_lang"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "media-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def script_messages(language: str) -> dict[str, str | list[str]]:
    """Every translation of ``language`` keyed by msgid, for the browser scripts (a few kilobytes)."""
    messages: dict[str, str | list[str]] = {}
    for message in catalog(language):
        if not message.id or message.fuzzy or not message.string:
            continue
        key = str(message.id[0] if isinstance(message.id, tuple) else message.id)
        messages[key] = list(message.string) if isinstance(message.string, tuple) else str(message.string)
    return messages


def page_language(request: Request, default: str) -> str:
    """The cookie the page set from the user's setting, else ``Accept-Language``, else ``default``."""
    chosen = supported(request.cookies.get(LANGUAGE_COOKIE))
    return chosen or negotiate(request.headers.get("accept-language"), default)


def render_page(language: str, timezone: str, template: str = "workspace.html") -> str:
    """``template`` in ``language``, with the scripts' texts and the company timezone in its boot JSON."""
    l10n = Localizer.of(language, timezone)
    context: dict[str, Any] = {
        "_": l10n.gettext,
        "ngettext": l10n.ngettext,
        "lang": l10n.language,
        "timezone": timezone,
        "boot": json.dumps(
            {"lang": l10n.language, "timezone": timezone, "messages": script_messages(l10n.language)},
            ensure_ascii=False,
        ).replace("</", "<\\/"),
    }
    return ENVIRONMENT.get_template(template).render(context)


@router.get("/workspace", response_class=HTMLResponse)
def workspace_page(request: Request) -> HTMLResponse:
    """The page in the visitor's language; its scripts and styles come from ``/workspace/static``."""
    settings = container_of(request).settings
    language = page_language(request, settings.language)
    html = render_page(language, settings.company_timezone)
    headers = {**SECURITY_HEADERS, "Content-Language": language, "Vary": "Accept-Language, Cookie"}
    return HTMLResponse(html, headers=headers)


def mount_workspace(app: FastAPI) -> None:
    """Add the page and its static assets to ``app``."""
    app.include_router(router)
    app.mount("/workspace/static", StaticFiles(directory=STATIC_DIR), name="workspace-static")
