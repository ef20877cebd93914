"""`POST /twilio/inbound` end to end (DESIGN.md §10): the fake Twilio's inbound command
(`python -m sidecar.providers.fake_twilio inbound …`, a separate process) posts a signed
inbound SMS to the relay's public route — the PHP bridge's twin — which relays it to the
sidecar served over HTTP, as on a live site and in the demo. STOP puts the number on the
list of every tenant that has it and START takes it back (an admin's row stays); the
answer is 200 with an empty TwiML `<Response />`; a forged signature changes nothing.

Then the demo itself: the command it prints (`inbound_command`) does the same.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from sidecar.demo import inbound_command, start_demo
from sidecar.sample_data import set_option
from sidecar.web import create_app
from sidecar.web.relay import PUBLIC_PREFIX, create_relay
from sidecar.web.server import BackgroundServer
from tests.clock import START
from tests.shop import Shop, open_shop
from tests.web_support import SECRET

ROOT = Path(__file__).resolve().parent.parent
NUMBER = "+16175550142"
TODAY = START // 86400


def _inbound(url: str, sender: str, body: str, token: str, *extra: str) -> tuple[int, str]:
    """Run the fake Twilio's inbound command; its exit code and what it printed."""
    done = subprocess.run([sys.executable, "-m", "sidecar.providers.fake_twilio", "inbound",
                           "--url", url, "--from", sender, "--body", body,
                           "--auth-token", token, *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def _listed(engine: Any, tables: Any) -> dict[tuple[int, str], str]:
    s = tables.suppressions
    with engine.connect() as conn:
        return {(r.tenant_id, r.phone): r.source for r in conn.execute(select(s))}


@pytest.fixture
def site(mysql_url: str, engine_for) -> Iterator[tuple[Shop, str]]:
    """A SaaS platform whose tenants 1 and 3 have a customer with NUMBER, served as on a
    live site; yields the shop and the public inbound URL Twilio is configured with."""
    shop = open_shop(mysql_url, engine_for(mysql_url), kind="saas", customers=24,
                     env={"BKNTC_SMS_BRIDGE_SECRET": SECRET})
    customers = shop.runtime.booknetic.customers
    with shop.engine.begin() as conn:
        for tenant, raw in ((1, "+1 (617) 555-0142"), (3, "+1 617 555 0142")):
            who = shop.ds.customers_of(tenant)[-1]["id"]
            conn.execute(update(customers).where(customers.c.id == who)
                         .values(phone_number=raw))
    sidecar = BackgroundServer(create_app(shop.runtime), threads=4).start()
    relay = BackgroundServer(create_relay(sidecar.url, lambda: SECRET, lambda request: None,
                                          clock=shop.clock), threads=4).start()
    # What the bridge writes on activation: rest_url('bkntc-sms/v1/').
    set_option(shop.engine, "wp_", "bkntc_sms_public_base_url", relay.url + PUBLIC_PREFIX)
    yield shop, relay.url + PUBLIC_PREFIX + "twilio/inbound"
    shop.runtime.outbox.close()
    relay.stop()
    sidecar.stop()
    shop.fake.stop()


def test_the_inbound_command_stops_and_starts_a_number_through_the_relay(
        site: tuple[Shop, str]) -> None:
    shop, url = site
    tables, token = shop.runtime.tables, shop.fake.auth_token

    code, printed = _inbound(url, NUMBER, " stop ", token)
    assert code == 0, printed
    assert printed.splitlines()[0].startswith("HTTP 200 text/xml"), printed
    assert printed.rstrip().endswith("<Response />"), printed
    assert _listed(shop.engine, tables) == {(1, NUMBER): "keyword", (3, NUMBER): "keyword"}
    assert shop.runtime.dashboard.summary(1)["opt_outs"] == 1
    assert shop.fake.received() == []  # the sidecar answers with TwiML, never an SMS

    # Twilio delivering the same webhook again: 200, nothing added.
    assert _inbound(url, NUMBER, "STOP", token, "--opt-out-type", "STOP")[0] == 0
    assert shop.runtime.dashboard.summary(1)["opt_outs"] == 1

    # A request not signed with the account's Auth Token is refused and changes nothing.
    code, printed = _inbound(url, NUMBER, "START", "not-the-token")
    assert code == 1 and printed.startswith("HTTP 403"), printed
    assert len(_listed(shop.engine, tables)) == 2

    shop.runtime.suppressions.add(2, NUMBER, "asked at the desk", user_id=12)
    code, printed = _inbound(url, NUMBER, "START", token)
    assert code == 0 and printed.rstrip().endswith("<Response />"), printed
    assert _listed(shop.engine, tables) == {(2, NUMBER): "manual"}


def test_the_demo_prints_a_stop_command_that_works(tmp_path: Path) -> None:
    demo = start_demo(tmp_path / "demo", fake_faults=False)
    try:
        command = inbound_command(demo)
        argv = shlex.split(command)
        sender = argv[argv.index("--from") + 1]
        tables, engine = demo.runtime.tables, demo.runtime.engine
        # The demo's past campaigns (demo_story.py) left a STOP reply and carrier refusals.
        before = _listed(engine, tables)
        assert (0, sender) not in before

        stop = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert stop.returncode == 0 and "<Response />" in stop.stdout, stop
        assert _listed(engine, tables) == before | {(0, sender): "keyword"}

        # The same customer texting START (a new command would pick another: the preview
        # leaves listed numbers out).
        argv[argv.index("--body") + 1] = "START"
        start = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert start.returncode == 0, start
        assert _listed(engine, tables) == before
    finally:
        demo.stop()
