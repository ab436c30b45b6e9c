"""Wire once: build the engine, sessions and metrics from settings and hand them to every part."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from callrouter.settings import Settings
from crm_core.db import make_engine, make_session_factory
from crm_core.metrics import Metrics


@dataclass
class Container:
    """The process's shared resources, created by :func:`build_container` in the entry point."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    metrics: Metrics = field(default_factory=Metrics)

    def database_ok(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def build_container(settings: Settings) -> Container:
    """Create the process's resources from ``settings``."""
    engine = make_engine(settings.database_url)
    return Container(settings=settings, engine=engine, sessions=make_session_factory(engine))
