"""Live-update fixtures: the API fixtures (app over the test's transaction, a staff of every role)."""

from tests.api.conftest import app, client, db, settings, staff

__all__ = ["app", "client", "db", "settings", "staff"]
