"""Wire the AMI side: one link per configured PBX, all feeding the call-tracking sink."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from callrouter.ami_leadership import AmiLeadership
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.services.screen_pop import Ringing
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.link import AmiLinkConfig
from pbx_bridge.ami.originator import AmiOriginator
from pbx_bridge.ami.ringing import RingingObserver
from pbx_bridge.ami.sink import AmiEventSink
from pbx_bridge.ami.supervisor import AmiSupervisor
from routing.missed_policy import PolicyConfig


def link_configs(settings: Settings) -> list[AmiLinkConfig]:
    """The AMI links: the main PBX (when ``CALLROUTER_AMI_HOST`` is set) and the extra ones."""
    configs: list[AmiLinkConfig] = []
    if settings.ami_host:
        secret = settings.ami_secret.get_secret_value() if settings.ami_secret else ""
        configs.append(
            AmiLinkConfig(
                pbx=settings.pbx_name,
                host=settings.ami_host,
                port=settings.ami_port,
                username=settings.ami_username or "",
                secret=secret,
                recheck_interval=settings.ami_recheck_s,
            )
        )
    configs.extend(
        AmiLinkConfig(
            pbx=extra.name,
            host=extra.host,
            port=extra.port,
            username=extra.username,
            secret=extra.secret.get_secret_value(),
            recheck_interval=settings.ami_recheck_s,
        )
        for extra in settings.ami_extra_pbxs
    )
    return configs


def build_call_tracking_sink(
    container: Container, sessions: sessionmaker[Session] | None = None
) -> CallTrackingSink:
    """The sink that turns PBX events into call records and missed calls (in ``sessions``, default the
    container's)."""
    settings = container.settings
    policy = PolicyConfig(
        inbound_contexts=frozenset(settings.inbound_contexts),
        short_abandon_s=settings.short_abandon_s,
        machine_targets=tuple(settings.machine_targets),
    )
    return CallTrackingSink(
        sessions or container.sessions, container.metrics, policy, region=settings.default_region
    )


def attach_ami(container: Container) -> AmiSupervisor | AmiLeadership | None:
    """Build the AMI links (None without a PBX); expose their state and click-to-call on ``container``.

    Click-to-call gets one originator per PBX (``container.originators``), so a manager's phone is rung by
    the PBX it is on.

    Every event passes the ringing observer (screen pop on ``DialBegin``) on its way to call tracking.
    On PostgreSQL instances elect one consumer per PBX (:mod:`callrouter.ami_leadership`); on the
    embedded SQLite default the single instance leads every PBX.
    """
    configs = link_configs(container.settings)
    if not configs:
        return None
    if container.engine.dialect.name == "postgresql":
        return _attach_leadership(container, configs)
    sink = RingingObserver(build_call_tracking_sink(container), container.ringing.notify)
    supervisor = AmiSupervisor(configs, sink, container.metrics)
    for config in configs:
        container.metrics.ami_leader.labels(pbx=config.pbx).set(1)
    container.ami_links = lambda: [{**state, "leader": True} for state in supervisor.states()]
    container.originators = {c.pbx: AmiOriginator(supervisor.client(c.pbx)) for c in configs}
    return supervisor


def _attach_leadership(container: Container, configs: list[AmiLinkConfig]) -> AmiLeadership:
    def make_sink(sessions: sessionmaker[Session], ringing: Callable[[Ringing], None]) -> AmiEventSink:
        return RingingObserver(build_call_tracking_sink(container, sessions), ringing)

    leadership = AmiLeadership(
        configs,
        container.engine,
        container.events,
        make_sink,
        container.ringing.notify,
        container.metrics,
        ttl_s=container.settings.ami_lease_ttl_s,
    )
    container.ami_links = leadership.states
    container.originators = {c.pbx: AmiOriginator(leadership.action_client(c.pbx)) for c in configs}
    return leadership
