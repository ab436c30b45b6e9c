"""Configuration and observable state of one AMI link (one PBX)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Events call tracking folds into call state (issue 4); everything else is dropped by the reader.
CALL_TRACKING_EVENTS = frozenset(
    {
        "Newchannel", "Newstate", "NewCallerid", "NewConnectedLine", "Newexten", "Rename",
        "DialBegin", "DialState", "DialEnd", "OriginateResponse",
        "BridgeCreate", "BridgeEnter", "BridgeLeave", "BridgeDestroy",
        "HangupRequest", "SoftHangupRequest", "Hangup", "Hold", "Unhold",
        "BlindTransfer", "AttendedTransfer", "LocalBridge", "VarSet",
        "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon",
        "AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer", "AgentDump",
        "MixMonitorStart", "MixMonitorStop", "Cdr",
    }
)  # fmt: skip


@dataclass(frozen=True)
class AmiLinkConfig:
    """Where and how to reach one PBX's manager interface; all durations in seconds."""

    pbx: str
    host: str
    username: str
    secret: str = field(repr=False)
    port: int = 5038
    connect_timeout: float = 5.0
    action_timeout: float = 5.0
    ping_interval: float = 10.0
    ping_timeout: float = 5.0
    recheck_interval: float = 60.0  # CoreShowChannels while the link is up; 0: only after (re)connects
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    queue_size: int = 100_000
    batch_size: int = 2000  # most events handed to the sink (one commit) at once
    event_mask: str = "call,dialplan,agent,cdr"
    events: frozenset[str] | None = CALL_TRACKING_EVENTS  # None: hand every event to the sink
    read_size: int = 256 * 1024
    stop_timeout: float = 0.5  # upper bound of AmiClient.stop(), whatever the link is doing

    @property
    def receives_events(self) -> bool:
        """False for an action-only link (``Events: off``): no event stream, so no snapshots either."""
        return self.event_mask.lower() != "off"


@dataclass
class LinkState:
    """What ``/ready`` and operators see about one link; updated by the client only."""

    pbx: str
    connected: bool = False
    logged_in: bool = False
    login_failed: bool = False
    last_error: str | None = None
    last_event_at: float | None = None  # epoch seconds of the last event read
    connects: int = 0
    rechecks: int = 0  # periodic CoreShowChannels re-checks sent
    events_received: int = 0
    events_handled: int = 0
    events_dropped: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
