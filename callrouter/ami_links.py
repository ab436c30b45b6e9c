"""Wire the AMI side: one link per configured PBX, all feeding the call-tracking sink."""

from __future__ import annotations

from callrouter.settings import Settings
from callrouter.wiring import Container
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.link import AmiLinkConfig
from pbx_bridge.ami.originator import AmiOriginator
from pbx_bridge.ami.ringing import RingingObserver
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
            )
        )
    configs.extend(
        AmiLinkConfig(
            pbx=extra.name,
            host=extra.host,
            port=extra.port,
            username=extra.username,
            secret=extra.secret.get_secret_value(),
        )
        for extra in settings.ami_extra_pbxs
    )
    return configs


def build_call_tracking_sink(container: Container) -> CallTrackingSink:
    """The sink that turns every PBX's events into call records and missed calls."""
    settings = container.settings
    policy = PolicyConfig(
        inbound_contexts=frozenset(settings.inbound_contexts),
        short_abandon_s=settings.short_abandon_s,
        machine_targets=tuple(settings.machine_targets),
    )
    return CallTrackingSink(container.sessions, container.metrics, policy, region=settings.default_region)


def attach_ami(container: Container) -> AmiSupervisor | None:
    """Build the AMI links (None without a PBX); expose their state and click-to-call on ``container``.

    Every event passes the ringing observer (screen pop on ``DialBegin``) on its way to call tracking.
    """
    configs = link_configs(container.settings)
    if not configs:
        return None
    sink = RingingObserver(build_call_tracking_sink(container), container.ringing.notify)
    supervisor = AmiSupervisor(configs, sink, container.metrics)
    container.ami_links = supervisor.states
    container.originator = AmiOriginator(supervisor.client(configs[0].pbx))
    return supervisor
