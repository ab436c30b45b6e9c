"""Click-to-call over AMI: ``Originate`` on the live link, with transport errors translated at this edge.

Callers (the API) see only :class:`PbxUnavailable` (the PBX could not be asked, or did not answer) and
:class:`OriginateRefused` (Asterisk answered with an error), never :mod:`pbx_bridge.ami.errors`.
"""

from __future__ import annotations

import logging

from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.errors import AmiActionFailed, AmiError

log = logging.getLogger(__name__)


class OriginateFailed(Exception):
    """The PBX did not queue the call; the message says why."""


class PbxUnavailable(OriginateFailed):
    """No link to the PBX, or no answer in time (after a timeout the call may still ring)."""


class OriginateRefused(OriginateFailed):
    """The PBX answered the request with an error (unknown channel, missing permission...)."""


class AmiOriginator:
    """Rings ``channel`` first, then dials ``exten`` in ``context`` (an Asterisk ``Async`` Originate)."""

    def __init__(self, client: AmiClient, ring_timeout_ms: int = 30_000) -> None:
        self._client = client
        self._ring_timeout_ms = ring_timeout_ms

    async def originate(
        self, channel: str, exten: str, context: str, *, caller_id: str | None = None
    ) -> None:
        """Queue the call; raise :class:`PbxUnavailable` or :class:`OriginateRefused` when it was not."""
        try:
            await self._client.originate(
                channel, exten, context, caller_id=caller_id, ring_timeout_ms=self._ring_timeout_ms
            )
        except AmiActionFailed as exc:
            log.warning("PBX refused Originate %s -> %s: %s", channel, exten, exc)
            raise OriginateRefused(str(exc)) from exc
        except AmiError as exc:
            log.warning("PBX unavailable for Originate %s -> %s: %r", channel, exten, exc)
            raise PbxUnavailable(str(exc) or type(exc).__name__) from exc
