"""Build the FastAPI application around a :class:`~callrouter.wiring.Container`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from callrouter.api import health, routing_dry_run, twilio_webhooks, workspace_analytics
from callrouter.api.errors import install_error_handlers
from callrouter.api.middleware import install_middleware
from callrouter.api.routes import (
    analytics,
    analytics_people,
    analytics_sales,
    auth,
    calls,
    cards,
    click_to_call,
    counterparties,
    escalation_admin,
    events,
    managers,
    me,
    missed_calls,
    missed_reports,
    notification_groups,
    notifications,
    number_lists,
    numbers,
    phones,
    records,
    routing_admin,
    sync_status,
)
from callrouter.api.security import LoginRateLimiter
from callrouter.api.workspace import mount_workspace
from callrouter.wiring import Container

OPENAPI_TAGS = [
    {"name": "auth", "description": "Password login, access tokens and revocable API tokens"},
    {"name": "managers", "description": "Staff accounts and roles"},
    {"name": "sync", "description": "The exchange with 1C: last run, counts and problems"},
    {"name": "counterparties", "description": "Clients, searchable by name, tax id or phone number"},
]


def create_app(container: Container) -> FastAPI:
    """The HTTP API with every router mounted; resources come from ``container``."""
    app = FastAPIOffline(  # /docs and /redoc load their scripts and styles from this app, never a CDN
        title="callrouter",
        version="0.1.0",
        description="Call routing and missed-call CRM API. Errors always look like "
        '`{"error": "<stable-id>", "detail": ...}`.',
        openapi_tags=OPENAPI_TAGS,
    )
    app.state.container = container
    app.state.login_limiter = LoginRateLimiter()
    install_error_handlers(app)
    install_middleware(app, getattr(container, "settings", None))
    app.include_router(health.router)
    routers = (
        auth.router,
        managers.router,
        counterparties.router,
        cards.router,
        phones.router,
        number_lists.router,
        numbers.router,
        calls.router,
        missed_calls.router,
        routing_admin.router,
        analytics.router,
        analytics.pins,
        analytics_people.router,
        analytics_people.refine_router,
        analytics_sales.router,
        escalation_admin.router,
        notifications.router,
        notification_groups.router,
        missed_reports.router,
        events.router,
        me.router,
        sync_status.router,
    )
    for router in (*routers, *records.routers):
        app.include_router(router)
    app.include_router(routing_dry_run.router)
    app.include_router(click_to_call.router)
    app.include_router(twilio_webhooks.router)
    app.include_router(workspace_analytics.router)
    mount_workspace(app)
    return app
