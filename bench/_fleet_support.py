"""bench/send scenario (d): several `bkntc-sms worker` processes against one database.

A SaaS-shaped database (N tenants with their own customers), campaigns queued through the
product's own services, and the fake Twilio in THIS process (it only sleeps its latency
and stores messages, so it needs little CPU), whose own receive timestamps (float epoch
seconds) give the fleet's rate, its peak over any 5-second window, and exactly-once.
"""

from __future__ import annotations

import random
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import _send_support as s

from sidecar.providers.fake_twilio import peak_in_window

WINDOW = 5.0  # seconds: DESIGN.md §13's rate window


@dataclass
class FleetShop:
    url: str
    account_sid: str
    auth_token: str
    tenants: list[int]


@dataclass
class FleetRun:
    processes: int
    messages: int
    seconds: float  # first to last message the fake received
    peak_window: int  # most messages in any WINDOW seconds
    duplicates: int
    missing: int
    load: str

    @property
    def rate(self) -> float:
        return (self.messages - 1) / self.seconds if self.seconds > 0 else float("nan")

    @property
    def peak_rate(self) -> float:
        return self.peak_window / WINDOW


def build_tenants(server: s.Server, tenants: int, per_tenant: int, seed: int = 11) -> FleetShop:
    """A fresh SaaS database: `tenants` tenants of `per_tenant` customers (distinct valid
    numbers), the Twilio add-on configured, our tables migrated."""
    from sqlalchemy import text

    from sidecar.db import make_engine
    from sidecar.sample_data import (
        CORE_PLUGIN,
        TWILIO_PLUGIN,
        create_tables,
        php_serialize_list,
        set_option,
    )
    from sidecar.schema import migrate

    phones = s.make_phones(tenants * per_tenant, seed)
    name = server.new_database()
    url = server.url(name)
    engine = make_engine(url)
    rng = random.Random(seed)
    try:
        create_tables(engine, s.PREFIX, "saas")
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {s.PREFIX}bkntc_tenants (id, full_name, email) "
                              "VALUES (:id, :name, :email)"),
                         [{"id": t, "name": f"Tenant {t}", "email": f"t{t}@example.com"}
                          for t in range(1, tenants + 1)])
            conn.execute(text(
                f"INSERT INTO {s.PREFIX}bkntc_customers (id, tenant_id, first_name, last_name, "
                "phone_number, created_by, created_at) VALUES (:id, :t, :f, :l, :p, 1, "
                "'2024-01-01 00:00:00')"),
                [{"id": i + 1, "t": i // per_tenant + 1, "f": rng.choice(s.FIRST),
                  "l": rng.choice(s.LAST), "p": phone} for i, phone in enumerate(phones)])
        account_sid, auth_token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
        for option, value in (
            ("active_plugins", php_serialize_list([CORE_PLUGIN, TWILIO_PLUGIN])),
            ("bkntc_plugin_version", "4.4.1"),
            ("bkntc_sms_account_sid", account_sid),
            ("bkntc_sms_auth_token", auth_token),
            ("bkntc_sender_phone_number", s.SENDER),
        ):
            set_option(engine, s.PREFIX, option, value)
        migrate(engine, s.PREFIX)
    finally:
        engine.dispose()
    return FleetShop(url, account_sid, auth_token, list(range(1, tenants + 1)))


def queue_campaigns(shop: FleetShop, base_url: str, count: int, mark: str) -> dict[int, int]:
    """`count` campaigns spread evenly over the tenants, each on all_with_phone with a body
    marked `[mark-k]`, created and sent (snapshotted) by the product's services.
    Returns {campaign id: recipients}."""
    from sidecar.config import Settings
    from sidecar.runtime import Runtime

    runtime = Runtime.build(Settings.from_env({"BKNTC_SMS_DATABASE_URL": shop.url,
                                               "BKNTC_SMS_TWILIO_BASE_URL": base_url}))
    queued: dict[int, int] = {}
    try:
        for k in range(count):
            tenant = shop.tenants[k % len(shop.tenants)]
            campaign = runtime.campaigns.create(tenant, {
                "name": f"bench {mark}-{k}", "segment": "all_with_phone", "filters": {},
                "body": f"Hi {{customer_first_name}}, see you soon! [{mark}-{k}]"})
            sent = runtime.campaigns.send(tenant, int(campaign["id"]))
            if sent["status"] != "queued":
                raise RuntimeError(f"campaign not queued: {sent}")
            queued[int(sent["id"])] = int(sent["total"])
    finally:
        runtime.close()
    return queued


def unfinished(url: str, campaign_ids: Sequence[int]) -> int:
    from sqlalchemy import text

    from sidecar.db import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                f"SELECT COUNT(*) FROM {s.PREFIX}bkntc_sms_campaigns WHERE id IN "
                f"({','.join(str(int(i)) for i in campaign_ids)}) "
                "AND status NOT IN ('completed', 'failed')")).scalar_one())
    finally:
        engine.dispose()


def run_fleet(shop: FleetShop, fake: object, processes: int, *, campaigns: int, mark: str,
              concurrency: int, rate: float, timeout: float = 7200.0) -> FleetRun:
    """Queue `campaigns` campaigns, run `processes` workers until all are done, stop them,
    and read the fleet's figures from the fake's own receive times."""
    queued = queue_campaigns(shop, fake.base_url, campaigns, mark)  # type: ignore[attr-defined]
    env = {"BKNTC_SMS_DATABASE_URL": shop.url,
           "BKNTC_SMS_TWILIO_BASE_URL": fake.base_url,  # type: ignore[attr-defined]
           "BKNTC_SMS_SEND_CONCURRENCY": str(concurrency),
           "BKNTC_SMS_RATE_PER_SECOND": f"{rate:g}", "BKNTC_SMS_TICK_SECONDS": "1"}
    workers = [subprocess.Popen([sys.executable, "-m", "sidecar", "worker"], cwd=s.ROOT,
                                env=s._child_env(env), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(processes)]
    try:
        deadline = time.monotonic() + timeout
        while unfinished(shop.url, list(queued)):
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise RuntimeError(f"({mark}) workers stopped or timed out before the "
                                   "campaigns finished")
            time.sleep(0.5)
        load = s.load()
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=120)
    tag = f"[{mark}-"
    mine = [m for m in fake.received() if tag in m.body]  # type: ignore[attr-defined]
    times = sorted(m.received_at for m in mine)
    counts = Counter((m.to, m.body) for m in mine)
    expected = sum(queued.values())
    return FleetRun(processes, len(mine), times[-1] - times[0] if times else 0.0,
                    peak_in_window(times, WINDOW), sum(n - 1 for n in counts.values()),
                    expected - len(counts), load)


