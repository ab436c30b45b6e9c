"""Prometheus metrics of one callrouter process, built by the composition root and passed down.

It lives in the innermost package so every layer can report through it without importing the ones above.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Every metric callrouter exports, registered on a registry of its own (no global state)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.calls_routed = Counter(
            "callrouter_calls_routed", "FastAGI routing answers by route kind", ["kind"], registry=r
        )
        self.degraded_answers = Counter(
            "callrouter_degraded_answers",
            "Routing answers given with a source down or the deadline hit",
            ["reason"],
            registry=r,
        )
        self.route_decision_latency = Histogram(
            "callrouter_route_decision_seconds",
            "FastAGI routing: request read to the first SET VARIABLE sent (what the deadline bounds)",
            buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0),
            registry=r,
        )
        self.route_latency = Histogram(
            "callrouter_route_seconds",
            "FastAGI routing: the whole exchange, request read to Asterisk's reply to the last command",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.3, 1.0),
            registry=r,
        )
        self.agi_faults = Counter(
            "callrouter_agi_faults", "Malformed or aborted FastAGI sessions", ["kind"], registry=r
        )
        self.agi_probes = Counter(
            "callrouter_agi_probes",
            "FastAGI connections closed without a request (health probes)",
            registry=r,
        )
        self.ami_events = Counter("callrouter_ami_events", "AMI events received", ["pbx"], registry=r)
        self.ami_faults = Counter(
            "callrouter_ami_faults", "Malformed or unprocessable AMI input", ["pbx", "kind"], registry=r
        )
        self.ami_link_up = Gauge(
            "callrouter_ami_link_up", "1 when the AMI link is logged in", ["pbx"], registry=r
        )
        self.ami_leader = Gauge(
            "callrouter_ami_leader", "1 when this instance consumes the PBX's AMI events", ["pbx"], registry=r
        )
        self.ami_leadership = Counter(
            "callrouter_ami_leadership",
            "AMI leadership changes of this instance (acquired, lost)",
            ["pbx", "change"],
            registry=r,
        )
        self.ami_fenced = Counter(
            "callrouter_ami_fenced_writes",
            "Call-tracking transactions refused because this instance no longer held the PBX's lease",
            ["pbx"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "callrouter_queue_depth", "Events waiting for the consumer", ["queue"], registry=r
        )
        self.ami_batch_events = Histogram(
            "callrouter_ami_batch_events",
            "AMI events handed to call tracking in one batch (one commit)",
            ["pbx"],
            buckets=(1, 2, 5, 10, 50, 100, 500, 1000, 2000, 5000),
            registry=r,
        )
        self.ami_batch_seconds = Histogram(
            "callrouter_ami_batch_seconds",
            "Call tracking: one batch of AMI events translated, folded, written and committed",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.notifications = Counter(
            "callrouter_notifications",
            "Notifications by channel and result",
            ["channel", "result"],
            registry=r,
        )
        self.calls_recorded = Counter(
            "callrouter_calls_recorded", "Call records written by disposition", ["disposition"], registry=r
        )
        self.sync_runs = Counter(
            "callrouter_sync_runs",
            "Runs of a sync with an outside system by result",
            ["source", "result"],
            registry=r,
        )
        self.sync_last_finished = Gauge(
            "callrouter_sync_last_finished_timestamp_seconds",
            "When the last sync run ended",
            ["source"],
            registry=r,
        )
        self.sync_last_duration = Gauge(
            "callrouter_sync_last_duration_seconds", "How long the last sync run took", ["source"], registry=r
        )
        self.sync_objects = Gauge(
            "callrouter_sync_last_objects",
            "Objects of the last sync run by kind and outcome",
            ["source", "kind", "outcome"],
            registry=r,
        )
        self.daily_job_runs = Counter(
            "callrouter_daily_job_runs",
            "Runs of a once-a-day job made by this instance, by result (done, failed)",
            ["job", "result"],
            registry=r,
        )
        self.daily_job_last_finished = Gauge(
            "callrouter_daily_job_last_finished_timestamp_seconds",
            "When the last run of a daily job ended (any instance, from the database)",
            ["job"],
            registry=r,
        )
        self.daily_job_last_duration = Gauge(
            "callrouter_daily_job_last_duration_seconds",
            "How long the last run of a daily job took (any instance)",
            ["job"],
            registry=r,
        )
        self.daily_job_last_rows = Gauge(
            "callrouter_daily_job_last_rows",
            "Rows the last run of a daily job changed (any instance)",
            ["job"],
            registry=r,
        )
        self.missed_calls = Counter(
            "callrouter_missed_calls", "Missed calls opened by reason", ["reason"], registry=r
        )
        self.twilio_webhooks = Counter(
            "callrouter_twilio_webhooks",
            "Twilio voice webhooks by endpoint and result",
            ["endpoint", "result"],
            registry=r,
        )
        self.live_events = Counter(
            "callrouter_live_events",
            "Domain events for live views by name and result (published, delivered, dropped)",
            ["name", "result"],
            registry=r,
        )
        self.live_streams = Gauge(
            "callrouter_live_streams", "Server-Sent Events streams open on this instance", registry=r
        )
