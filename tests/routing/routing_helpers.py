"""Helpers shared by the routing tests (imported by name: the test directories are not packages)."""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import make_engine
from crm_core.metrics import Metrics
from routing.service import RoutingService

MakeService = Callable[..., Awaitable[RoutingService]]


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class World:
    """The seeded CRM: ids and numbers the tests refer to."""

    ann: int
    bob: int
    carl: int
    acme: int
    beta: int
    acme_phone: str = "+79001110001"
    contact_phone: str = "+79001110002"
    beta_phone: str = "+79001110003"
    blacklisted: str = "+79001110004"
    candidate: str = "+79001110005"
    ann_mobile: str = "+79001110006"
    stranger: str = "+79001119999"


class FlakySessions:
    """A session factory whose database can be switched off (a closed port) or made slow."""

    def __init__(self, good: sessionmaker[Session]) -> None:
        self._good = good
        self._bad_engine = make_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/none")
        self._bad = sessionmaker(bind=self._bad_engine)
        self.down = False
        self.delay_s = 0.0

    def __call__(self) -> Session:
        if self.delay_s:
            time.sleep(self.delay_s)
        return self._bad() if self.down else self._good()

    def dispose(self) -> None:
        self._bad_engine.dispose()


def degraded_count(metrics: Metrics, reason: str) -> float:
    value = metrics.registry.get_sample_value("callrouter_degraded_answers_total", {"reason": reason})
    return value or 0.0
