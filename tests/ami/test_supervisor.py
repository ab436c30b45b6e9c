"""The supervisor of several PBX links, against two stand-ins on real TCP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import pytest

from crm_core.metrics import Metrics
from pbx_bridge.ami.errors import AmiUnknownPbx
from pbx_bridge.ami.supervisor import AmiSupervisor
from tests.ami.conftest import StandInFactory
from tests.ami.helpers import STOP_BOUND, RecordingSink, ami_tasks, fast_config, wait_until
from tests.ami.standin import AmiStandIn
from tests.ami.trace import Trace

SupervisorFactory = Callable[[dict[str, AmiStandIn], RecordingSink], AmiSupervisor]


@pytest.fixture
async def supervise(ami_standin: StandInFactory) -> AsyncIterator[SupervisorFactory]:
    """``supervise({"main": standin, ...}, sink)``: a supervisor over those stand-ins, stopped after."""
    made: list[AmiSupervisor] = []

    def make(standins: dict[str, AmiStandIn], sink: RecordingSink) -> AmiSupervisor:
        # no ping watchdog: a late Pong on a loaded machine would drop a link these tests expect up
        configs = [fast_config(s.port, pbx=n, events=None, ping_interval=60) for n, s in standins.items()]
        supervisor = AmiSupervisor(configs, sink, Metrics())
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        await supervisor.stop()


def _trace(traces: list[Trace], name: str) -> Trace:
    return next(t for t in traces if t.name == name)


async def test_two_pbxs_stream_into_one_sink_and_originate_on_their_own_link(
    ami_standin: StandInFactory, supervise: SupervisorFactory, ami_traces: list[Trace]
) -> None:
    answered, missed = _trace(ami_traces, "a"), _trace(ami_traces, "b")
    main, branch = await ami_standin(answered), await ami_standin(missed)
    sink = RecordingSink()
    supervisor = supervise({"main": main, "branch": branch}, sink)
    await supervisor.start()
    expected = {"main": answered.event_count, "branch": missed.event_count}
    # each login snapshot may be read after the whole short trace: wait for both too
    await wait_until(lambda: sink.pbxs == expected and sink.log.count("snapshot") == 2)
    assert supervisor.ready and supervisor.pbxs == ["main", "branch"]
    states = supervisor.states()
    assert [s["pbx"] for s in states] == ["main", "branch"]
    assert all(s["logged_in"] and s["queue_depth"] == 0 for s in states)
    assert [s["events_handled"] for s in states] == [answered.event_count, missed.event_count]

    reply = await supervisor.client("branch").originate("PJSIP/m1", "+79001234516", "from-internal")
    assert reply["Message"] == "Originate successfully queued"
    assert [a["Action"] for a in branch.actions].count("Originate") == 1
    assert "Originate" not in [a["Action"] for a in main.actions]
    with pytest.raises(AmiUnknownPbx, match="nowhere"):
        supervisor.client("nowhere")


async def test_a_refused_login_shows_in_its_own_state_only(
    ami_standin: StandInFactory, supervise: SupervisorFactory
) -> None:
    good, refusing = await ami_standin(), await ami_standin(secret="other")
    supervisor = supervise({"main": good, "branch": refusing}, RecordingSink())
    await supervisor.start()
    await wait_until(lambda: supervisor.client("branch").state.login_failed)
    await supervisor.client("main").wait_logged_in(2)
    main, branch = supervisor.states()
    assert main["logged_in"] and not main["login_failed"]
    assert not branch["logged_in"] and "Authentication failed" in str(branch["last_error"])
    assert not supervisor.ready


async def test_stop_ends_every_link_at_once(
    ami_standin: StandInFactory, supervise: SupervisorFactory, answered_trace: Trace
) -> None:
    live, hung = await ami_standin(answered_trace), await ami_standin()
    hung.silent = True  # its link is stuck in Login
    supervisor = supervise({"main": live, "branch": hung}, RecordingSink(delay=30.0))
    await supervisor.start()
    await supervisor.client("main").wait_logged_in(2)
    started = time.perf_counter()
    await supervisor.stop()
    assert time.perf_counter() - started < STOP_BOUND
    assert not ami_tasks()
    assert not any(s["connected"] for s in supervisor.states())


def test_pbx_names_must_be_unique() -> None:
    configs = [fast_config(5038), fast_config(5039)]
    with pytest.raises(ValueError, match="more than once: main"):
        AmiSupervisor(configs, RecordingSink(), Metrics())
