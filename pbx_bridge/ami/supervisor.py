"""Every configured PBX link: one :class:`AmiClient` each, one sink, started and stopped together.

Call tracking hands all PBXs to the same sink (events carry their PBX name); ``/ready`` reads
:meth:`AmiSupervisor.states`; click-to-call picks the link of the PBX a manager belongs to with
:meth:`AmiSupervisor.client`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from crm_core.metrics import Metrics
from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.errors import AmiUnknownPbx
from pbx_bridge.ami.link import AmiLinkConfig
from pbx_bridge.ami.sink import AmiEventSink


class AmiSupervisor:
    """Owns one client per config (PBX names must be unique); ``await start()`` / ``await stop()``."""

    def __init__(self, configs: Sequence[AmiLinkConfig], sink: AmiEventSink, metrics: Metrics) -> None:
        twice = sorted(name for name, n in Counter(c.pbx for c in configs).items() if n > 1)
        if twice:
            raise ValueError(f"PBX name configured more than once: {', '.join(twice)}")
        self._clients = {c.pbx: AmiClient(c, sink, metrics) for c in configs}

    @property
    def pbxs(self) -> list[str]:
        """The PBX names, in configuration order."""
        return list(self._clients)

    async def start(self) -> None:
        """Start every link in the background (returns at once; links log in on their own)."""
        for client in self._clients.values():
            await client.start()

    async def stop(self) -> None:
        """Stop every link concurrently: bounded by one client's ``stop_timeout``."""
        await asyncio.gather(*(client.stop() for client in self._clients.values()))

    def client(self, pbx: str) -> AmiClient:
        """The link to ``pbx`` (raises :class:`AmiUnknownPbx`)."""
        try:
            return self._clients[pbx]
        except KeyError:
            raise AmiUnknownPbx(f"no AMI link configured for PBX {pbx!r}") from None

    def states(self) -> list[dict[str, object]]:
        """One entry per link for ``/ready``: :class:`~pbx_bridge.ami.link.LinkState` plus the queue depth."""
        return [{**c.state.as_dict(), "queue_depth": c.queue_depth} for c in self._clients.values()]

    @property
    def ready(self) -> bool:
        """Every link is logged in."""
        return all(c.state.logged_in for c in self._clients.values())
