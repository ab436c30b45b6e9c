"""Event times come from Asterisk's ``Timestamp``; the receive time is only a fallback, flagged as such."""

from __future__ import annotations

from pathlib import Path

from crm_core.metrics import Metrics
from pbx_bridge.ami.translate import AmiTranslator
from routing.call_events import AttendedTransferred, BlindTransferred, ChannelMovedAway, HungUp
from routing.call_state import CallTracker
from tests.call_tracking.helpers import finish_all, fold, live_snapshot, trace_frames


def test_timestamp_is_used_and_its_absence_flagged(traces_dir: Path) -> None:
    hangup = next(f for f in trace_frames(traces_dir, "sip/s1") if f.get("Event") == "Hangup")
    translator = AmiTranslator(Metrics(), clock=lambda: 5.0)
    (stamped,) = translator.translate("main", hangup)
    unstamped_frame = {k: v for k, v in hangup.items() if k != "Timestamp"}
    (unstamped,) = translator.translate("main", unstamped_frame)
    assert isinstance(stamped, HungUp) and stamped.at == float(hangup["Timestamp"]) and stamped.stamped
    assert isinstance(unstamped, HungUp) and (unstamped.at, unstamped.stamped) == (5.0, False)


def test_snapshot_time_follows_the_pbx_clock_seen_on_events(traces_dir: Path) -> None:
    frames = trace_frames(traces_dir, "sip/s1")
    now = [0.0]
    translator = AmiTranslator(Metrics(), clock=lambda: now[0])
    created = next(f for f in frames if f.get("Event") == "Newchannel")
    stamp = float(created["Timestamp"])
    now[0] = stamp - 30.0  # our clock is 30 s behind the PBX's; the event arrives 10 ms late
    translator.translate("main", {**created, "Timestamp": f"{stamp - 0.01:.6f}"})
    now[0] += 100.0
    assert abs(translator.pbx_now("main") - (stamp + 100.0)) < 0.02


def test_unstamped_events_after_a_gap_make_the_call_approximate(traces_dir: Path) -> None:
    frames = trace_frames(traces_dir, "sip/s1")
    cut = next(i for i, f in enumerate(frames) if f.get("Event") == "BridgeEnter") + 1
    tracker = CallTracker()
    fold(frames[:cut], tracker)
    assert not finish_all(tracker, live_snapshot(frames, cut), at=float(frames[cut - 1]["Timestamp"]))
    (got,) = fold([{k: v for k, v in f.items() if k != "Timestamp"} for f in frames[cut:]], tracker).values()
    assert got.call.late_clock and got.call.approximate
    (clean,) = fold(frames).values()
    assert not clean.call.approximate


def test_transfer_events_read_their_prefixed_ids() -> None:
    translator = AmiTranslator(Metrics())
    blind = {
        "Event": "BlindTransfer", "Timestamp": "10.5", "Result": "Success",
        "TransfererUniqueid": "1.2", "TransfererLinkedid": "1.1", "TransfereeUniqueid": "1.1",
        "TransfereeLinkedid": "1.1", "Context": "from-managers", "Extension": "m2",
    }  # fmt: skip
    (event,) = translator.translate("main", blind)
    assert event == BlindTransferred("1.1", "1.2", 10.5, "1.1", "from-managers", "m2")
    assert translator.translate("main", {**blind, "Result": "Fail"}) == ()
    attended = {
        "Event": "AttendedTransfer", "Timestamp": "20.0", "Result": "Success", "DestType": "Bridge",
        "OrigTransfererUniqueid": "1.2", "OrigTransfererLinkedid": "1.1",
        "SecondTransfererUniqueid": "3.3", "SecondTransfererLinkedid": "3.3",
        "TransfereeUniqueid": "1.1", "TransfereeLinkedid": "1.1",
        "TransferTargetUniqueid": "3.4", "TransferTargetLinkedid": "3.3",
        "TransferTargetChannel": "PJSIP/m2-0000002a", "TransferTargetCallerIDNum": "102",
    }  # fmt: skip
    moved, transferred = translator.translate("main", attended)
    assert moved == ChannelMovedAway("3.3", "3.4", 20.0, "1.1")
    assert transferred == AttendedTransferred("1.1", "1.2", 20.0, "1.1", "3.4", "PJSIP/m2-0000002a", "102")
    faults = Metrics()
    assert AmiTranslator(faults).translate("main", {"Event": "BlindTransfer", "Result": "Success"}) == ()
    assert faults.ami_faults.labels(pbx="main", kind="missing_id")._value.get() == 1
