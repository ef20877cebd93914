"""Prometheus metrics of one sidecar process (`prometheus_client`, DESIGN.md §13).

Each process has its own registry: in a fleet every `serve` answers GET /metrics (loopback
only, web/metrics.py) and every `worker --metrics-port N` serves it on 127.0.0.1:N, and
Prometheus scrapes them all. What this process did is counted as it happens (messages by
outcome, provider latency, rate-limit waits, status-callback lag); what the database says
(queue depth, campaigns per status, live processes and their leases) is read at scrape
time, a few cheap statements over the campaign counters and the fleet tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from .schema import SmsTables

if TYPE_CHECKING:
    from .outbox.rate_limit import LimiterStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class SidecarMetrics:
    """The metrics of one process; the send path and the callbacks record into it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "bkntc_sms_messages", "Messages POSTed to the provider by this process, by "
            "outcome (sent, transient, unknown, permanent, opted_out, halt).", ["outcome"],
            registry=self.registry)
        self.provider_latency = Histogram(
            "bkntc_sms_provider_send_seconds", "Time one Messages POST took (this process).",
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self.callback_lag = Histogram(
            "bkntc_sms_delivery_callback_lag_seconds", "Seconds from the status time a "
            "callback reports to its arrival here.", buckets=LAG_BUCKETS,
            registry=self.registry)

    def watch(self, engine: Engine, tables: SmsTables, limiter: LimiterStats,
              holder: str, clock: Callable[[], float] = time.time) -> None:
        """Add the values read at scrape time (the database's and the limiter's)."""
        self.registry.register(_StateCollector(engine, tables, limiter, holder, clock))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector(Collector):
    def __init__(self, engine: Engine, tables: SmsTables, limiter: LimiterStats,
                 holder: str, clock: Callable[[], float]) -> None:
        self.engine, self.tables, self.limiter = engine, tables, limiter
        self.holder, self.clock = holder, clock

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        waits = CounterMetricFamily("bkntc_sms_rate_limit_waits", "Sends of this process "
                                    "that waited for a slot of the shared rate limit.")
        waits.add_metric([], self.limiter.waits)
        yield waits
        waited = CounterMetricFamily("bkntc_sms_rate_limit_wait_seconds", "Seconds this "
                                     "process's sends waited for rate-limit slots.")
        waited.add_metric([], self.limiter.waited_seconds)
        yield waited
        yield from self._database()

    def _database(self) -> Iterator[GaugeMetricFamily]:
        c, leases, p = self.tables.campaigns, self.tables.campaign_leases, self.tables.processes
        now = int(self.clock())
        up = GaugeMetricFamily("bkntc_sms_database_up", "1 when the database answered the "
                               "scrape's queries.")
        try:
            with self.engine.connect() as conn:
                statuses = conn.execute(select(
                    c.c.status, func.count(), func.coalesce(func.sum(c.c.pending), 0),
                    func.coalesce(func.sum(c.c.sent), 0),
                    func.coalesce(func.sum(c.c.failed), 0)).group_by(c.c.status)).all()
                held = conn.execute(select(leases.c.holder, func.count())
                                    .where(leases.c.expires_at >= now)
                                    .group_by(leases.c.holder)).all()
                live = conn.execute(select(func.count()).select_from(p)
                                    .where(p.c.expires_at >= now)).scalar_one()
        except Exception:  # a scrape must answer even when the database does not
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        campaigns = GaugeMetricFamily("bkntc_sms_campaigns", "Campaigns by status.",
                                      labels=["status"])
        depth = GaugeMetricFamily("bkntc_sms_queue_pending", "Recipients still pending, by "
                                  "campaign status (queued/sending: the queue depth).",
                                  labels=["status"])
        recipients = GaugeMetricFamily("bkntc_sms_recipients", "Recipient rows by status "
                                       "(the campaigns' counters, which equal the rows).",
                                       labels=["status"])
        totals = {"pending": 0, "sent": 0, "failed": 0}
        for status, count, pending, sent, failed in statuses:
            campaigns.add_metric([str(status)], int(count))
            depth.add_metric([str(status)], int(pending))
            for key, value in (("pending", pending), ("sent", sent), ("failed", failed)):
                totals[key] += int(value)
        for key, value in totals.items():
            recipients.add_metric([key], value)
        yield campaigns
        yield depth
        yield recipients
        holders = GaugeMetricFamily("bkntc_sms_campaign_leases", "Campaign leases live now, "
                                    "by holding process (host:pid:random).", labels=["holder"])
        for holder, count in held:
            holders.add_metric([str(holder)], int(count))
        yield holders
        processes = GaugeMetricFamily("bkntc_sms_live_processes", "Sidecar processes "
                                      "registered as running the queue.")
        processes.add_metric([], int(live))
        yield processes
