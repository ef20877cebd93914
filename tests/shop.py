"""A whole sending setup for engine tests: Booknetic data, our schema, a fake Twilio, a clock.

`Shop` is what a test drives; it owns real parts only (a MariaDB or SQLite database, the
fake Twilio server over HTTP, the unpatched twilio library inside the provider). Its one
`FrozenClock` (tests/clock.py) is the data set's "now", the services' and the fake's clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from sidecar.config import Settings
from sidecar.providers.fake_twilio import FakeTwilio
from sidecar.runtime import Runtime
from sidecar.sample_data import Dataset, build_booknetic
from tests.clock import START, FrozenClock


@dataclass
class Shop:
    url: str
    engine: Engine
    ds: Dataset
    fake: FakeTwilio
    clock: FrozenClock
    runtime: Runtime

    @property
    def env(self) -> dict[str, str]:
        """Environment for a `bkntc-sms` subprocess pointed at this shop."""
        return {"BKNTC_SMS_DATABASE_URL": self.url,
                "BKNTC_SMS_TWILIO_BASE_URL": self.fake.base_url}

    def rows(self, campaign_id: int) -> list[dict[str, Any]]:
        r = self.runtime.tables.recipients
        with self.engine.connect() as conn:
            return [dict(x) for x in conn.execute(
                select(r).where(r.c.campaign_id == campaign_id).order_by(r.c.id)).mappings()]

    def status_counts(self, campaign_id: int) -> Counter[str]:
        r = self.runtime.tables.recipients
        with self.engine.connect() as conn:
            return Counter({str(s): int(n) for s, n in conn.execute(
                select(r.c.status, func.count()).where(r.c.campaign_id == campaign_id)
                .group_by(r.c.status))})

    def assert_counters_match_rows(self, campaign_id: int,
                                   tenant: int | None = None) -> dict[str, Any]:
        progress = self.runtime.campaigns.progress(tenant, campaign_id)
        counts = self.status_counts(campaign_id)
        assert (progress["sent"], progress["failed"], progress["pending"],
                progress["skipped"]) == (counts["sent"], counts["failed"], counts["pending"],
                                         counts["skipped"]), (progress, counts)
        assert progress["total"] == sum(counts.values())
        return progress

    def received_to(self) -> Counter[str]:
        return Counter(m.to for m in self.fake.received())

    def create(self, segment: str = "all_with_phone", body: str = "Hi {customer_first_name}!",
               **filters: Any) -> int:
        campaign = self.runtime.campaigns.create(None, {
            "name": f"Test {segment}", "segment": segment, "body": body, "filters": filters})
        return int(campaign["id"])

    def sent_campaign(self) -> int:
        """A campaign to every customer with a phone, sent in this process until nothing is
        due (retries left waiting); its id."""
        cid = self.create()
        self.runtime.campaigns.send(None, cid)
        self.runtime.outbox.drain(cid)
        return cid


def quiet_hours_off(runtime: Runtime, tenant_ids: Iterable[int | None]) -> None:
    """Turn quiet hours off for these tenants (and the no-tenant scope). The test clock's
    START is 20:26 UTC, outside the default 09:00-20:00 window in most zones of the sample
    data: tests of anything but quiet hours and settings would see their messages held."""
    for tenant in {*tenant_ids, None}:
        runtime.tenant_settings.update(tenant, {"quiet_hours": None})


def open_shop(url: str, engine: Engine, *, customers: int = 60, kind: str = "single",
              env: dict[str, str] | None = None, fake_options: dict[str, Any] | None = None,
              twilio: str = "configured", quiet_hours: bool = False) -> Shop:
    """A shop at START; with `quiet_hours`, the default quiet hours apply (else off)."""
    clock = FrozenClock()
    ds = build_booknetic(engine, "wp_", kind, START, customers_per_tenant=customers,
                         twilio=twilio)
    fake = FakeTwilio(ds.options.get("bkntc_sms_account_sid", "AC" + "0" * 32),
                      ds.options.get("bkntc_sms_auth_token", "x" * 32),
                      **{"clock": clock, **(fake_options or {})}).start()
    settings = Settings.from_env({
        "BKNTC_SMS_DATABASE_URL": url,
        "BKNTC_SMS_TWILIO_BASE_URL": fake.base_url,
        "BKNTC_SMS_RETRY_DELAYS": "2,4",
        # Generous: the clock is frozen, so a request that timed out on a busy machine
        # would wait for a retry that never falls due. A test of timeouts sets its own.
        "BKNTC_SMS_TWILIO_TIMEOUT": "60",
        "BKNTC_SMS_LEASE_SECONDS": "120",
        **(env or {}),
    })
    runtime = Runtime.build(settings, engine=engine, clock=clock)
    if not quiet_hours:
        quiet_hours_off(runtime, ds.tenant_ids)
    return Shop(url, engine, ds, fake, clock, runtime)
