"""The HTTP middleware stack, outermost first: request id and catch-all error, client address, body limit.

The client address comes from ``X-Forwarded-For`` only when the TCP peer is one of
``CALLROUTER_TRUSTED_PROXIES`` (uvicorn's own proxy-header handling is off, see :mod:`callrouter.runtime`).
"""

from __future__ import annotations

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from callrouter.api.body_limit import BodyLimitMiddleware
from callrouter.api.request_context import RequestContextMiddleware
from callrouter.settings import Settings

IMPORT_PATH_SUFFIXES = ("/bulk",)  # bulk imports get ``api_max_import_body_bytes``


def _setting(settings: Settings | None, name: str) -> int:
    value = getattr(settings, name) if settings is not None else Settings.model_fields[name].default
    return int(value)


def install_middleware(app: FastAPI, settings: Settings | None) -> None:
    """Add the stack to ``app`` (Starlette runs the middleware added last first); ``settings`` None (an app
    built only for its OpenAPI schema): the defaults."""
    import_limit = _setting(settings, "api_max_import_body_bytes")
    overrides = [(suffix, import_limit) for suffix in IMPORT_PATH_SUFFIXES]
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=_setting(settings, "api_max_body_bytes"), overrides=overrides
    )
    proxies = settings.trusted_proxies if settings is not None else []
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    app.add_middleware(RequestContextMiddleware)
