"""The HTTP middleware stack, outermost first: request id and catch-all error, client address, body limit."""

from __future__ import annotations

from fastapi import FastAPI

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
    app.add_middleware(RequestContextMiddleware)
