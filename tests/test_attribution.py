"""Attribution (DESIGN.md §12) against an independent model (tests/attribution_model.py), on
the single-site, SaaS and no-tenant-column data sets, on MariaDB and SQLite.

The world is written by hand around fixed instants (the clock is FrozenClock at NOW): the
window's two edges and one second past, a second customer sharing the number, two
campaigns competing (later touch, equal times, a touch whose window has closed), a one-off
SMS that must not steal, a holdout row, a booking canceled after attribution, and — in SaaS —
another tenant's and the NULL tenant's bookings on the same number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text, update

from sidecar.config import Settings
from sidecar.runtime import Runtime
from sidecar.sample_data import build_booknetic, metadata_for
from tests.attribution_model import cents, expected, revenue, row_figures
from tests.clock import FrozenClock

NOW = 1_780_000_000
DAY = 86400
T0 = NOW - 30 * DAY  # the campaigns were sent a month ago
PREFIX = "wp_"
A, B, C, D, E = (f"+1718555010{i}" for i in range(1, 6))


@dataclass
class World:
    runtime: Runtime
    engine: Engine
    kind: str
    tenant: int | None
    campaigns: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    appointments: list[dict[str, Any]]
    prices: list[dict[str, Any]]

    def model(self) -> dict[int, list[int]]:
        return expected(self.campaigns, self.rows, self.customers, self.appointments,
                        self.prices, None)

    def stored(self) -> dict[int, list[int]]:
        x = self.runtime.tables.attributions
        found: dict[int, list[int]] = {r["id"]: [] for r in self.rows}
        with self.engine.connect() as conn:
            for rid, aid in conn.execute(select(x.c.recipient_id, x.c.appointment_id)):
                found[int(rid)].append(int(aid))
        return {k: sorted(v) for k, v in found.items()}

    def stored_rows(self) -> dict[int, tuple[int | None, int | None, int | None]]:
        r = self.runtime.tables.recipients
        with self.engine.connect() as conn:
            return {int(row.id): (row.booked_appointment_id, row.booked_at, row.revenue_cents)
                    for row in conn.execute(select(r.c.id, r.c.booked_appointment_id,
                                                   r.c.booked_at, r.c.revenue_cents))}

    def campaign(self, cid: int) -> dict[str, Any]:
        c = self.runtime.tables.campaigns
        with self.engine.connect() as conn:
            return dict(conn.execute(select(c).where(c.c.id == cid)).mappings().one())

    def cancel(self, appointment_id: int) -> None:
        """Booknetic cancels a booking (the test stands in for Booknetic here)."""
        with self.engine.begin() as conn:
            conn.execute(text(f"UPDATE {PREFIX}bkntc_appointments SET status = 'canceled' "
                              "WHERE id = :id"), {"id": appointment_id})
        for a in self.appointments:
            if a["id"] == appointment_id:
                a["status"] = "canceled"

    def assert_matches_model(self) -> None:
        model = self.model()
        assert self.stored() == model
        assert self.stored_rows() == row_figures(model, self.appointments, self.prices)
        by_id = {a["id"]: a for a in self.appointments}
        for campaign in self.campaigns:
            if campaign["kind"] != "campaign":
                continue
            mine = [r for r in self.rows if r["campaign_id"] == campaign["id"]]
            sent = [r for r in mine if r["status"] == "sent"]
            held = [r for r in mine if r["status"] == "holdout"]
            got = self.campaign(campaign["id"])
            assert got["bookings"] == sum(len(model[r["id"]]) for r in sent)
            assert got["booked_recipients"] == sum(1 for r in sent if model[r["id"]])
            assert got["holdout_booked"] == sum(1 for r in held if model[r["id"]])
            assert got["revenue_cents"] == sum(
                cents(revenue(by_id[i], self.prices)) for r in sent for i in model[r["id"]])


def _insert(engine: Engine, kind: str, table: str, rows: list[dict[str, Any]]) -> None:
    md = metadata_for(PREFIX, kind)
    t = md.tables[f"{PREFIX}bkntc_{table}"]
    with engine.begin() as conn:
        conn.execute(insert(t), [{k: v for k, v in row.items() if k in t.c} for row in rows])


def build_world(url: str, kind: str, engine_for: Any) -> World:
    engine = engine_for(url)
    build_booknetic(engine, PREFIX, kind, NOW, customers_per_tenant=3)
    runtime = Runtime.build(Settings.from_env({"BKNTC_SMS_DATABASE_URL": url}), engine=engine,
                            clock=FrozenClock(NOW))
    tenant = 1 if kind == "saas" else None
    customers = [
        {"id": 9001, "tenant": tenant, "phone": A},
        {"id": 9002, "tenant": tenant, "phone": "+1 718-555-0101"},  # A again, written apart
        {"id": 9003, "tenant": tenant, "phone": B},
        {"id": 9004, "tenant": tenant, "phone": C},
        {"id": 9005, "tenant": tenant, "phone": D},
        {"id": 9006, "tenant": tenant, "phone": E},
    ]
    if kind == "saas":  # the same number in another tenant and in the NULL tenant
        customers += [{"id": 9007, "tenant": 2, "phone": A},
                      {"id": 9008, "tenant": None, "phone": A}]
    _insert(engine, kind, "customers", [
        {"id": c["id"], "first_name": f"C{c['id']}", "last_name": "", "phone_number": c["phone"],
         "tenant_id": c["tenant"]} for c in customers])

    def appt(aid: int, customer: int, created: int | None, status: str = "approved",
             paid: str | None = "0.00", tenant_of: int | None = None) -> dict[str, Any]:
        owner = next(c for c in customers if c["id"] == customer)
        return {"id": aid, "customer_id": customer, "status": status, "created_at": created,
                "starts_at": (created or T0) + 5 * DAY, "paid_amount": paid,
                "tenant": owner["tenant"] if tenant_of is None else tenant_of,
                "tenant_id": owner["tenant"] if tenant_of is None else tenant_of}

    sent_at = T0 + 100
    appointments = [
        appt(80001, 9001, sent_at, paid="99.00"),             # at the window's start: K1·A
        appt(80002, 9002, T0 + DAY, paid="30.50"),            # the other customer on A: K1·A
        appt(80003, 9001, T0 + 2 * DAY + 50, paid=None),      # after K2's touch: K2·A
        appt(80004, 9003, sent_at + 7 * DAY, paid="1.00"),    # the window's last second: K1·B
        appt(80005, 9003, sent_at + 7 * DAY + 1),             # one second late: nobody
        appt(80006, 9003, sent_at - 1),                       # before the message: nobody
        appt(80007, 9004, T0 + 3 * DAY + 10, paid="12.00"),   # K2's 1-day window closed: K1·C
        appt(80008, 9004, T0 + 2 * DAY + 10, status="rejected"),
        appt(80009, 9005, T0 + DAY, paid="40.00"),            # the holdout row's control group
        appt(80010, 9006, T0 + DAY, paid="15.00"),            # equal sent_at: the higher id, K2
        appt(80011, 9004, T0 + 2 * DAY + 20, paid="25.25"),   # canceled later in the test: K2·C
        appt(80012, 9001, None),                              # no created_at: never counted
    ]
    if kind == "saas":
        appointments += [appt(80013, 9007, T0 + DAY, paid="500.00"),
                         appt(80014, 9008, T0 + DAY, paid="700.00")]
    _insert(engine, kind, "appointments", appointments)
    prices = [
        {"id": 1, "appointment_id": 80001, "unique_key": "service", "price": "50.00",
         "negative_or_positive": 1},
        {"id": 2, "appointment_id": 80001, "unique_key": "discount", "price": "5.00",
         "negative_or_positive": -1},
        {"id": 3, "appointment_id": 80004, "unique_key": "service", "price": "20.10",
         "negative_or_positive": 1},
    ]
    _insert(engine, kind, "appointment_prices", prices)

    campaigns = [
        {"id": 501, "kind": "campaign", "days": 7, "queued_at": T0},
        {"id": 502, "kind": "campaign", "days": 1, "queued_at": T0 + 2 * DAY - 100},
        {"id": 503, "kind": "manual", "days": 7, "queued_at": T0 + DAY},
    ]
    rows = [
        {"id": 1, "campaign_id": 501, "phone": A, "status": "sent", "sent_at": sent_at},
        {"id": 2, "campaign_id": 501, "phone": B, "status": "sent", "sent_at": sent_at},
        {"id": 3, "campaign_id": 501, "phone": C, "status": "sent", "sent_at": sent_at},
        {"id": 4, "campaign_id": 501, "phone": D, "status": "holdout", "sent_at": None},
        {"id": 5, "campaign_id": 501, "phone": E, "status": "sent", "sent_at": sent_at},
        {"id": 6, "campaign_id": 502, "phone": A, "status": "sent", "sent_at": T0 + 2 * DAY},
        {"id": 7, "campaign_id": 502, "phone": C, "status": "sent", "sent_at": T0 + 2 * DAY},
        {"id": 8, "campaign_id": 502, "phone": E, "status": "sent", "sent_at": sent_at},
        {"id": 9, "campaign_id": 502, "phone": B, "status": "failed", "sent_at": None},
        {"id": 10, "campaign_id": 503, "phone": B, "status": "sent", "sent_at": T0 + DAY},
    ]
    for r in rows:
        r["tenant"] = tenant
    t = runtime.tables
    with engine.begin() as conn:
        conn.execute(insert(t.campaigns), [{
            "id": c["id"], "tenant_id": tenant or 0, "kind": c["kind"], "name": f"K{c['id']}",
            "filters": "{}", "body": "Hi", "status": "completed", "created_at": T0,
            "updated_at": T0, "queued_at": c["queued_at"], "finished_at": T0 + 3 * DAY,
            "attribution_days": c["days"]} for c in campaigns])
        conn.execute(insert(t.recipients), [{
            "id": r["id"], "campaign_id": r["campaign_id"], "tenant_id": tenant or 0,
            "phone": r["phone"], "status": r["status"], "sent_at": r["sent_at"],
            "updated_at": T0} for r in rows])
    return World(runtime, engine, kind, tenant, campaigns, rows, customers, appointments,
                 prices)


@pytest.fixture(params=["single", "saas", "no_tenant_column"])
def world(request: pytest.FixtureRequest, any_url: str, engine_for: Any) -> Iterator[World]:
    w = build_world(any_url, request.param, engine_for)
    yield w
    w.runtime.close()


def test_refresh_matches_the_model_then_drops_a_canceled_booking(world: World) -> None:
    report = world.runtime.attribution.refresh_open()
    assert report.errors == 0 and report.campaigns == [501, 502]  # never the one-off SMS
    world.assert_matches_model()
    stored = world.stored()
    # The cases the world was written for, spelled out (the model says the same).
    assert stored[1] == [80001, 80002] and stored[6] == [80003]
    assert stored[2] == [80004] and stored[10] == []
    assert stored[3] == [80007] and stored[7] == [80011]
    assert stored[4] == [80009] and stored[5] == [] and stored[8] == [80010]
    assert world.stored_rows()[1] == (80001, T0 + 100, 4500 + 3050)
    assert world.campaign(501)["revenue_cents"] == 4500 + 3050 + 2010 + 1200

    world.cancel(80011)  # canceled after it was attributed
    assert world.runtime.attribution.refresh(world.tenant, 502)
    world.assert_matches_model()
    assert world.stored()[7] == [] and world.stored_rows()[7] == (None, None, None)


def test_figures_freeze_once_the_window_closed(world: World) -> None:
    assert world.runtime.attribution.refresh_open().campaigns == [501, 502]
    before = world.campaign(501)
    # Both windows closed long before NOW and were refreshed after: frozen.
    world.cancel(80001)
    assert world.runtime.attribution.refresh_open().campaigns == []
    assert world.campaign(501)["bookings"] == before["bookings"]
    # A campaign still sending keeps its window open.
    c = world.runtime.tables.campaigns
    with world.engine.begin() as conn:
        conn.execute(update(c).where(c.c.id == 501).values(finished_at=None))
    assert world.runtime.attribution.refresh_open().campaigns == [501]
    world.assert_matches_model()
    assert world.campaign(501)["bookings"] == before["bookings"] - 1
