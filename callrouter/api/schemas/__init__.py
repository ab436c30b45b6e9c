"""Request and response schemas (pydantic v2), kept apart from the ORM table models."""
