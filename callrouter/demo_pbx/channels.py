"""The channels the simulated PBX has up, for its answer to ``CoreShowChannels``.

serve re-lists the live channels after every login and periodically, and closes the calls Asterisk no
longer has; the demo PBX must therefore list the channels of a call it is replaying, as Asterisk would.
"""

from __future__ import annotations

from collections.abc import Mapping

CHANNEL_FIELDS = (
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
)


class LiveChannels:
    """Fed every event sent; lists the channels from their ``Newchannel`` to their ``Hangup``.

    >>> live = LiveChannels()
    >>> live.feed({"Event": "Newchannel", "Channel": "PJSIP/trunk-1", "Uniqueid": "5.1", "Linkedid": "5.1",
    ...            "Timestamp": "100.0"})
    >>> live.feed({"Event": "Newexten", "Uniqueid": "5.1", "Application": "Dial", "AppData": "PJSIP/101,20",
    ...            "Timestamp": "102.5"})
    >>> [(c["Channel"], c["Application"], c["Duration"]) for c in live.listing()]
    [('PJSIP/trunk-1', 'Dial', '00:00:02')]
    >>> live.feed({"Event": "Hangup", "Uniqueid": "5.1"})
    >>> live.listing()
    []
    """

    def __init__(self) -> None:
        self._channels: dict[str, dict[str, str]] = {}
        self._created: dict[str, float] = {}
        self._now = 0.0

    def feed(self, event: Mapping[str, str]) -> None:
        self._now = float(event.get("Timestamp") or self._now)
        uid, name = event.get("Uniqueid"), event.get("Event")
        if uid is None:
            return
        if name == "Newchannel":
            self._channels[uid] = {"Application": "", "ApplicationData": "", "BridgeId": ""}
            self._created[uid] = self._now
        chan = self._channels.get(uid)
        if chan is None:
            return
        if name == "Hangup":
            del self._channels[uid], self._created[uid]
            return
        chan.update({k: event[k] for k in CHANNEL_FIELDS if k in event})
        if name == "Newexten":
            chan["Application"], chan["ApplicationData"] = (
                event.get("Application", ""),
                event.get("AppData", ""),
            )
        elif name == "BridgeEnter":
            chan["BridgeId"] = event.get("BridgeUniqueid", "")
        elif name == "BridgeLeave":
            chan["BridgeId"] = ""

    def listing(self) -> list[dict[str, str]]:
        """The ``CoreShowChannel`` bodies (without ``Event``/``ActionID``), oldest channel first."""
        order = (*CHANNEL_FIELDS, "Application", "ApplicationData", "Duration", "BridgeId")
        out = []
        for uid, chan in self._channels.items():
            minutes, seconds = divmod(max(0, int(self._now - self._created[uid])), 60)
            row = {**chan, "Duration": f"{minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d}"}
            out.append({k: row[k] for k in order if k in row})
        return out
