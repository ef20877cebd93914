"""An inbound SMS through a real WordPress (DESIGN.md §10): the fake Twilio posts a customer's
signed STOP to the bridge's public route `…/twilio/inbound` on WordPress (`php -S`), the
bridge relays it (bridge-signed, through tests/wp_e2e_support.py's recording proxy) to the
sidecar's POST /twilio/inbound, and the number goes on the suppression list, so the next
campaign leaves it out; START through the same route takes it back. A forged STOP is refused
by the sidecar (403, passed back by WordPress) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from sidecar.providers.fake_twilio.inbound import inbound_form, post_inbound
from tests.conftest import MariaDBServer
from tests.wp_e2e_support import Site, bring_up

pytestmark = pytest.mark.slow  # a WordPress under php -S

INBOUND = "/wp-json/bkntc-sms/v1/twilio/inbound"


@pytest.fixture(scope="module")
def single(mariadb: MariaDBServer) -> Iterator[Site]:
    yield from bring_up(mariadb, "single")


@pytest.fixture(autouse=True)
def no_php_messages_from_the_bridge(single: Site) -> Iterator[None]:
    """Not one PHP error, warning, notice or deprecation names the plugin."""
    yield
    single.assert_no_bridge_messages()


def inbound_url(site: Site) -> str:
    return site.wp.url + INBOUND


def suppressions(site: Site) -> list[tuple[Any, ...]]:
    s = site.runtime.tables.suppressions
    with site.runtime.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(s.c.tenant_id, s.c.phone, s.c.source).order_by(s.c.id))]


def snapshot_phones(site: Site, name: str) -> list[str]:
    """The numbers a new campaign of the `repeat` segment would text (its snapshot)."""
    runtime = site.runtime
    cid = int(runtime.campaigns.create(None, {"name": name, "segment": "repeat",
                                              "body": f"{name}: see you soon!"})["id"])
    runtime.campaigns.send(None, cid)  # the snapshot; nothing here drains it
    r = runtime.tables.recipients
    with runtime.engine.connect() as conn:
        return list(conn.execute(select(r.c.phone).where(r.c.campaign_id == cid)
                                 .order_by(r.c.id)).scalars())


def post_form(url: str, form: dict[str, str], signature: str | None) -> requests.Response:
    """POST `form` to `url` as Twilio would, with `signature` as X-Twilio-Signature."""
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return requests.post(url, data=form, headers=headers, timeout=60)


def relayed_since(site: Site, before: int) -> list[dict[str, Any]]:
    return [s for s in site.recorder.seen[before:] if s["path"] == "/twilio/inbound"]


def test_a_signed_stop_through_wordpress_suppresses_the_number_and_start_takes_it_back(
        single: Site) -> None:
    phones = snapshot_phones(single, "Before STOP")
    customer = phones[0]
    assert customer.startswith("+") and (0, customer, "keyword") not in suppressions(single)

    before = len(single.recorder.seen)
    answer = single.fake.send_inbound(inbound_url(single), customer, "Stop", timeout=60)
    assert answer.status == 200, answer
    assert answer.content_type.startswith("text/xml") and "<Response" in answer.body
    (relayed,) = relayed_since(single, before)  # through the bridge, bridge-signed
    assert relayed["answer"]["status"] == 200 and "X-Bkntc-Signature" in relayed["headers"]
    assert relayed["headers"]["X-Bkntc-Public-Url"] == inbound_url(single)
    assert (0, customer, "keyword") in suppressions(single)
    assert customer not in snapshot_phones(single, "After STOP")

    answer = single.fake.send_inbound(inbound_url(single), customer, "START", timeout=60)
    assert answer.status == 200, answer
    assert (0, customer, "keyword") not in suppressions(single)
    assert customer in snapshot_phones(single, "After START")


def test_a_forged_stop_through_wordpress_is_403_and_changes_nothing(single: Site) -> None:
    customer = snapshot_phones(single, "Forged STOP")[1]
    url, token = inbound_url(single), single.fake.auth_token
    form = inbound_form(account_sid=single.fake.account_sid, from_=customer, body="STOP",
                        opt_out_type="STOP")
    before, seen = suppressions(single), len(single.recorder.seen)
    sign = RequestValidator(token).compute_signature
    forgeries = {
        "no signature": post_form(url, form, None),
        "another account's token": post_form(
            url, form, RequestValidator("f" * 32).compute_signature(url, form)),
        "signed for another URL": post_form(url, form, sign(url + "?x=1", form)),
        "signed for another sender": post_form(url, form, sign(url, {**form,
                                                                     "From": "+15005550006"})),
    }
    for name, answer in forgeries.items():
        assert answer.status_code == 403, (name, answer.text)
        assert answer.headers["Content-Type"].startswith("application/json"), name
    # Each reached the sidecar (WordPress decides nothing) and was refused there.
    assert [s["answer"]["status"] for s in relayed_since(single, seen)] == [403] * 4
    assert suppressions(single) == before
    # The control: the same STOP signed by Twilio for the right URL does suppress it.
    assert post_inbound(url, token, form, timeout=60).status == 200
    assert (0, customer, "keyword") in suppressions(single)
