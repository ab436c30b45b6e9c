"""The HTTP API (FastAPI): health, readiness, metrics and the admin/manager resources."""
