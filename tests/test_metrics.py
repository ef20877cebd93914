"""GET /metrics (DESIGN.md §13): what this process sent, read at the source, and who may
scrape it (this machine only, never through the bridge's relay)."""

from __future__ import annotations

import signal
import socket
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from sidecar.providers.base import DeliveryStatus, DeliveryUpdate
from sidecar.web import create_app
from tests.shop import Shop, open_shop
from tests.test_engine_processes import WAIT, _spawn
from tests.web_support import wait_for


@pytest.fixture
def shop(mysql_url: str, engine_for) -> Iterator[Shop]:
    shop = open_shop(mysql_url, engine_for(mysql_url), customers=30)
    yield shop
    shop.runtime.outbox.close()
    shop.fake.stop()


def _scrape(shop: Shop, address: str = "127.0.0.1", **headers: str) -> tuple[int, str]:
    client = create_app(shop.runtime).test_client()
    reply = client.get("/metrics", environ_base={"REMOTE_ADDR": address}, headers=headers)
    return reply.status_code, reply.get_data(as_text=True)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_show_what_this_process_sent_and_the_queue(shop: Shop) -> None:
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    report = shop.runtime.outbox.run_queue()
    sent = len(shop.fake.received())
    assert report.sent == sent > 0
    r = shop.runtime.tables.recipients
    with shop.engine.connect() as conn:
        message_id, sent_at = conn.execute(select(r.c.provider_message_id, r.c.sent_at)
                                           .where(r.c.status == "sent").limit(1)).one()
    shop.runtime.deliveries.record_callback(
        DeliveryUpdate(message_id, DeliveryStatus.DELIVERED, int(sent_at) + 7))

    status, text = _scrape(shop)
    assert status == 200
    samples = _samples(text)
    assert samples[("bkntc_sms_messages_total", (("outcome", "sent"),))] == sent
    assert samples[("bkntc_sms_provider_send_seconds_count", ())] == sent
    assert samples[("bkntc_sms_recipients", (("status", "sent"),))] == sent
    assert samples[("bkntc_sms_recipients", (("status", "pending"),))] == 0
    assert samples[("bkntc_sms_campaigns", (("status", "completed"),))] == 1
    assert samples[("bkntc_sms_delivery_callback_lag_seconds_count", ())] == 1
    assert samples[("bkntc_sms_delivery_callback_lag_seconds_sum", ())] == 7
    # The run registered this process; its lease was given back when the campaign ended.
    assert samples[("bkntc_sms_live_processes", ())] == 1
    assert not any(name == "bkntc_sms_campaign_leases" for name, _ in samples)
    assert samples[("bkntc_sms_database_up", ())] == 1
    assert samples[("bkntc_sms_rate_limit_waits_total", ())] == 0  # no limit configured


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.53", "::1"])
def test_metrics_answer_this_machine(shop: Shop, address: str) -> None:
    status, text = _scrape(shop, address)
    assert status == 200 and "bkntc_sms_campaigns" in text


@pytest.mark.parametrize(("address", "headers"), [
    ("10.0.0.5", {}),
    ("192.168.1.20", {}),
    ("2001:db8::1", {}),
    ("::ffff:10.0.0.5", {}),
    ("not-an-address", {}),
    # Through the bridge's relay (it connects from loopback, carrying a user's identity).
    ("127.0.0.1", {"X-Bkntc-Identity": "e30", "X-Bkntc-Signature": "0" * 64}),
    ("127.0.0.1", {"X-Bkntc-Signature": "0" * 64}),
], ids=["private v4", "lan", "v6", "v4-mapped", "garbage", "relayed", "signature only"])
def test_metrics_refuse_everyone_else(shop: Shop, address: str,
                                      headers: dict[str, str]) -> None:
    status, text = _scrape(shop, address, **headers)
    assert status == 403 and "bkntc_sms_" not in text
    assert "127.0.0.1" in text  # says how to scrape it


def test_metrics_take_no_writes(shop: Shop) -> None:
    client = create_app(shop.runtime).test_client()
    assert client.post("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}
                       ).status_code in (401, 405)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_a_worker_serves_its_own_metrics_on_loopback(shop: Shop) -> None:
    """`bkntc-sms worker --metrics-port N`: each process of a fleet is scraped on its own,
    at 127.0.0.1:N, and counts what it sent itself."""
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    port = _free_port()
    worker = _spawn(shop, "worker", "--metrics-port", str(port))
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        def scraped() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            assert worker.poll() is None, worker.communicate()
            try:
                with urllib.request.urlopen(url, timeout=5) as reply:
                    return _samples(reply.read().decode())
            except OSError:
                return {}

        wait_for(lambda: scraped().get(("bkntc_sms_recipients", (("status", "pending"),)))
                 == 0, timeout=WAIT, what="the worker to send the campaign")
        samples = scraped()
        sent = len(shop.fake.received())
        assert samples[("bkntc_sms_messages_total", (("outcome", "sent"),))] == sent > 0
        assert samples[("bkntc_sms_live_processes", ())] >= 1
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=WAIT)
