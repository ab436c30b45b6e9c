"""Three ``callrouter serve`` processes, one PostgreSQL, one Redis, two PBXs replaying a burst of 30
overlapping real calls each; the leader of one PBX is killed (``kill -9``) or frozen (``SIGSTOP``) in the
middle of the burst. A standby takes over within 5 s and nothing is lost or doubled."""

from __future__ import annotations

import collections
import signal
from pathlib import Path

import pytest

from tests.cluster.harness import run_failover
from tests.conftest import PG_ADMIN_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
TAKEOVER_BOUND_S = 5.0


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGSTOP], ids=["kill-9", "sigstop"])
async def test_a_standby_takes_over_a_dead_or_frozen_leader_in_the_middle_of_a_burst(
    traces_dir: Path, tmp_path: Path, redis_url: str, stop_signal: signal.Signals
) -> None:
    outcome = await run_failover(traces_dir, tmp_path, PG_ADMIN_URL, redis_url, stop_signal)

    assert outcome.takeover_s < TAKEOVER_BOUND_S
    assert sorted(outcome.leader_gauges) == [0.0, 0.0, 1.0]  # /metrics of each instance before the stop
    assert len(outcome.expected) == 60
    assert outcome.lost == 0
    assert outcome.duplicate_records == 0
    assert [(k, outcome.recorded[k], outcome.expected[k]) for k in outcome.wrong] == []
    assert set(outcome.recorded) == set(outcome.expected)  # nothing recorded that did not happen

    missed = sum(e.missed_reason is not None for e in outcome.expected.values())
    assert outcome.missed_calls == missed > 0
    # one notification per missed call, recipient (the director) and channel, each sent once
    assert sorted(collections.Counter(c for (_m, _r, c) in outcome.deliveries).items()) == [
        ("inapp", missed),
        ("webhook", missed),
    ]
    assert set(outcome.deliveries.values()) == {1}
    assert len(outcome.webhook_sends) == missed and set(outcome.webhook_sends.values()) == {1}

    assert outcome.live.named("ringing") > 0 and outcome.live.named("missed-call") > 0
    assert outcome.live.duplicates() == 0

    if stop_signal == signal.SIGSTOP:
        # resumed after its lease expired, the old leader stood down without writing as a second leader
        assert outcome.old_leader_leads_after_resume is not None
        assert "main" not in outcome.old_leader_leads_after_resume
        assert outcome.old_leader_gauge_after_resume == 0.0
        assert outcome.event_sessions_after_resume == 1
