"""Opt-outs from outside (DESIGN.md §10): inbound STOP/START/HELP applied across a SaaS
platform, and provider errors that suppress a number — on MariaDB and SQLite, with the SaaS
sample data, the fake Twilio over HTTP and the unpatched twilio library.

The number +1 617 555 0142 belongs to a customer of tenant 1 (written "+1 (617) 555-0142")
and of tenant 3 (written nationally, "617-555-0142", which tenant 3's default country US
reads); tenant 2 has it nationally too but no default country, so for tenant 2 it is not a
valid number and tenant 2 does not "have" it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from sidecar.delivery_log import iso
from sidecar.opt_outs import record_opt_outs, suppress_from_provider
from sidecar.providers.base import Suppress
from sidecar.providers.keywords import InboundKind, classify_inbound
from sidecar.sample_data import set_option
from sidecar.segments import SegmentQuery
from sidecar.suppressions import SOURCES
from sidecar.web import create_app
from tests.clock import START
from tests.shop import Shop, open_shop
from tests.test_cli import run_cli
from tests.web_support import SECRET, FlaskTransport, SignedClient, assert_error

NUMBER = "+16175550142"
NOBODYS = "+16175550143"
TODAY = START // 86400


@pytest.fixture
def saas(any_url: str, engine_for) -> Iterator[Shop]:
    s = open_shop(any_url, engine_for(any_url), kind="saas", customers=24,
                  env={"BKNTC_SMS_BRIDGE_SECRET": SECRET})
    set_option(s.engine, "wp_", "bkntc_t3_default_phone_country_code", "us")
    _set_phone(s, 1, "+1 (617) 555-0142")
    _set_phone(s, 3, "617-555-0142")
    _set_phone(s, 2, "617 555 0142")  # no default country in tenant 2: not a valid number
    yield s
    s.runtime.outbox.close()
    s.fake.stop()


def _set_phone(shop: Shop, tenant: int | None, raw: str, nth: int = -1) -> None:
    customers = shop.runtime.booknetic.customers
    who = shop.ds.customers_of(tenant)[nth]["id"]
    with shop.engine.begin() as conn:
        conn.execute(update(customers).where(customers.c.id == who).values(phone_number=raw))


def _rows(shop: Shop) -> dict[tuple[int, str], dict[str, Any]]:
    """Every suppression row, by (tenant, phone)."""
    s = shop.runtime.tables.suppressions
    with shop.engine.connect() as conn:
        return {(r["tenant_id"], r["phone"]): dict(r) for r in conn.execute(select(s)).mappings()}


def _opt_outs(shop: Shop) -> dict[tuple[int, int], int]:
    d = shop.runtime.tables.daily
    with shop.engine.connect() as conn:
        return {(r.tenant_id, r.day): r.opt_outs for r in conn.execute(select(d)) if r.opt_outs}


def _inbound(shop: Shop, body: str, opt_out_type: str | None = None,
             sender: str = NUMBER) -> Any:
    form = {"MessageSid": "SM" + "a" * 32, "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+15005550006", "Body": body, "NumMedia": "0"}
    if opt_out_type is not None:
        form["OptOutType"] = opt_out_type
    return shop.runtime.opt_outs.handle_inbound(form)


# -- classification ---------------------------------------------------------------------


@pytest.mark.parametrize(("body", "opt_out_type", "kind"), [
    ("STOP", None, InboundKind.OPT_OUT), ("  stop \n", None, InboundKind.OPT_OUT),
    ("StopAll", None, InboundKind.OPT_OUT), ("unsubscribe", None, InboundKind.OPT_OUT),
    ("cancel", None, InboundKind.OPT_OUT), ("End", None, InboundKind.OPT_OUT),
    ("QUIT", None, InboundKind.OPT_OUT), ("revoke", None, InboundKind.OPT_OUT),
    ("optout", None, InboundKind.OPT_OUT),
    ("start", None, InboundKind.OPT_IN), (" Yes", None, InboundKind.OPT_IN),
    ("UNSTOP", None, InboundKind.OPT_IN),
    ("help", None, InboundKind.HELP), ("INFO ", None, InboundKind.HELP),
    ("stop please", None, InboundKind.OTHER), ("STOPP", None, InboundKind.OTHER),
    ("\u017ftop", None, InboundKind.OTHER), ("", None, InboundKind.OTHER),  # long s
    ("see you tomorrow", None, InboundKind.OTHER),
    # OptOutType decides, whatever the body says (the sender's own keywords, any language).
    ("Arrêt", "STOP", InboundKind.OPT_OUT), ("STOP", "HELP", InboundKind.HELP),
    ("stop", "START", InboundKind.OPT_IN), ("oui", "start", InboundKind.OPT_IN),
    ("STOP", "SOMETHING", InboundKind.OTHER),
    # An empty OptOutType is no OptOutType.
    ("STOP", "", InboundKind.OPT_OUT),
])
def test_what_an_inbound_message_means(body: str, opt_out_type: str | None,
                                       kind: InboundKind) -> None:
    form = {"From": NUMBER, "Body": body, "MessageSid": "SM1"}
    if opt_out_type is not None:
        form["OptOutType"] = opt_out_type
    assert classify_inbound(form).kind is kind


# -- opt-out ------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "opt_out_type"), [
    ("STOP", None), ("  stop\n", None), ("Unsubscribe", None), ("Arrêt", "STOP")])
def test_stop_suppresses_the_number_in_every_tenant_that_has_it(
        saas: Shop, body: str, opt_out_type: str | None) -> None:
    result = _inbound(saas, body, opt_out_type)
    assert (result.message.kind, result.phone, result.tenants) == (
        InboundKind.OPT_OUT, NUMBER, [1, 3])
    rows = _rows(saas)
    assert set(rows) == {(1, NUMBER), (3, NUMBER)}
    for row in rows.values():
        assert row["source"] == "keyword" and row["created_at"] == START
        assert row["created_by"] is None
        assert row["reason"].startswith(f'Replied "{" ".join(body.split())}" by SMS on '
                                        f"{iso(START)}")
    assert _opt_outs(saas) == {(1, TODAY): 1, (3, TODAY): 1}
    assert saas.runtime.dashboard.summary(1)["opt_outs"] == 1
    assert saas.runtime.dashboard.summary(2)["opt_outs"] == 0
    # Tenant 1's campaigns leave the number out from now on.
    preview = saas.runtime.segments.preview(SegmentQuery("all_with_phone", tenant_id=1),
                                            limit=100)
    assert NUMBER not in {s["phone"] for s in preview.sample}
    assert preview.skipped_suppressed == 1

    # A repeated STOP (Twilio may deliver a webhook twice) changes nothing.
    saas.clock.advance(3600)
    again = _inbound(saas, "STOP")
    assert (again.tenants, again.changed) == ([], 0)
    assert _rows(saas) == rows
    assert _opt_outs(saas) == {(1, TODAY): 1, (3, TODAY): 1}


def test_stop_from_a_number_no_customer_has_goes_to_the_no_tenant_list(saas: Shop) -> None:
    result = _inbound(saas, "stop", sender=NOBODYS)
    assert result.tenants == [0]
    assert {k: r["source"] for k, r in _rows(saas).items()} == {(0, NOBODYS): "keyword"}
    assert _opt_outs(saas) == {(0, TODAY): 1}


def test_stop_sees_numbers_changed_after_the_last_phone_check(saas: Shop) -> None:
    """Our phones table only knows numbers already checked: a customer who got the number
    after tenant 2's last check (a preview) is found all the same — here written in
    full-width digits, as a Japanese input method types them, which phonenumbers reads."""
    for tenant in (None, 1, 2, 3):
        saas.runtime.segments.preview(SegmentQuery("all_with_phone", tenant_id=tenant))
    fullwidth = "+1 617 555 0142".translate(str.maketrans("+0123456789", "".join(
        chr(0xFF0B if ch == "+" else 0xFF10 + int(ch)) for ch in "+0123456789")))
    _set_phone(saas, 2, fullwidth, nth=-2)
    _set_phone(saas, None, "16175550142")  # and a super-admin (no tenant) customer
    assert _inbound(saas, "STOP").tenants == [0, 1, 2, 3]


def test_a_sender_that_is_not_a_phone_number_changes_nothing(saas: Shop) -> None:
    for sender in ("12345", "MyShop", "whatsapp:+16175550142", "+1 555", ""):
        result = _inbound(saas, "STOP", sender=sender)
        assert result.phone is None and result.tenants == []
    assert _rows(saas) == {} and _opt_outs(saas) == {}


# -- opt-in -------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "opt_out_type"), [
    ("START", None), (" yes ", None), ("unstop", None), ("Oui", "START")])
def test_start_removes_only_what_the_sidecar_added(saas: Shop, body: str,
                                                   opt_out_type: str | None) -> None:
    suppressions = saas.runtime.suppressions
    manual = suppressions.add(3, "617-555-0142", "asked at the desk", user_id=13)
    pasted = suppressions.add_many(None, f"{NUMBER}\n{NOBODYS}", "old list", user_id=1)
    assert manual["added"] and pasted.added == 2
    assert _inbound(saas, "STOP").tenants == [1]  # tenants 3 and 0 had it already
    with saas.engine.begin() as conn:  # and Twilio refused it for a tenant 2 campaign
        record_opt_outs(conn, saas.runtime.tables, 2,
                        {NUMBER: Suppress("provider", "Replied STOP (Twilio error 21610)")},
                        START)
    before = _rows(saas)
    assert {k: r["source"] for k, r in before.items() if k[1] == NUMBER} == {
        (0, NUMBER): "manual", (1, NUMBER): "keyword", (2, NUMBER): "provider",
        (3, NUMBER): "manual"}

    result = _inbound(saas, body, opt_out_type)
    assert (result.message.kind, result.tenants, result.changed) == (
        InboundKind.OPT_IN, [1, 2], 2)
    assert _rows(saas) == {k: r for k, r in before.items()
                           if k not in ((1, NUMBER), (2, NUMBER))}
    # Opt-outs counted stay counted (they happened); a second START changes nothing.
    assert _opt_outs(saas) == {(1, TODAY): 1, (2, TODAY): 1}
    assert _inbound(saas, "START").changed == 0
    assert len(_rows(saas)) == len(before) - 2


@pytest.mark.parametrize(("body", "opt_out_type"), [
    ("HELP", None), ("info", None), ("STOP", "HELP"), ("stop it now", None),
    ("START", "HELP"), ("Thanks!", None)])
def test_help_and_other_messages_change_nothing(saas: Shop, body: str,
                                                opt_out_type: str | None) -> None:
    assert _inbound(saas, "STOP").tenants == [1, 3]
    before = _rows(saas), _opt_outs(saas)
    result = _inbound(saas, body, opt_out_type)
    assert result.message.kind in (InboundKind.HELP, InboundKind.OTHER)
    assert (result.tenants, result.changed) == ([], 0)
    assert (_rows(saas), _opt_outs(saas)) == before


# -- provider errors ----------------------------------------------------------------------


def test_provider_errors_that_mean_never_text_add_provider_rows(saas: Shop) -> None:
    """21610, 30004, 30005, 30006 from Twilio when sending (the fake's scripted errors)
    suppress the number in the campaign's tenant; 21614 fails the row but suppresses
    nothing."""
    people = [c for c in saas.ds.customers_of(2)[:5]]
    numbers = ["+16175550150", "+16175550151", "+16175550152", "+16175550153",
               "+16175550154"]
    codes = [21610, 30004, 30005, 30006, 21614]
    for person, number, code in zip(people, numbers, codes, strict=True):
        _set_phone(saas, 2, number, nth=saas.ds.customers_of(2).index(person))
        saas.fake.script_error(number, code)
    runtime = saas.runtime
    cid = int(runtime.campaigns.create(2, {"name": "Spring", "segment": "all_with_phone",
                                           "body": "Hi {customer_first_name}"})["id"])
    runtime.campaigns.send(2, cid)
    runtime.outbox.run_queue()
    assert runtime.campaigns.progress(2, cid)["status"] == "completed"
    rows = {phone: r for (tenant, phone), r in _rows(saas).items()}
    assert {k for k in _rows(saas)} == {(2, n) for n in numbers[:4]}
    assert [(rows[n]["source"], rows[n]["reason"]) for n in numbers[:4]] == [
        ("provider", "Replied STOP (Twilio error 21610)"),
        ("provider", "Blocked by the carrier or the recipient (Twilio error 30004)"),
        ("provider", "Unknown or inactive number (Twilio error 30005)"),
        ("provider", "Landline or unreachable carrier (Twilio error 30006)")]
    assert _opt_outs(saas) == {(2, TODAY): 4}
    assert runtime.dashboard.summary(2)["opt_outs"] == 4
    failed = {r["phone"]: r["error_code"] for r in saas.rows(cid) if r["status"] == "failed"}
    assert failed == dict(zip(numbers, codes, strict=True))


def test_suppress_from_provider_for_callbacks_and_the_poller(saas: Shop) -> None:
    tables = saas.runtime.tables
    with saas.engine.begin() as conn:
        assert suppress_from_provider(conn, tables, 3, NUMBER, 30005, now=START)
        assert not suppress_from_provider(conn, tables, 3, NUMBER, 30006, now=START + 1)
        for code in (30003, 30007, 30008, 21614, None):  # not "never text this number"
            assert not suppress_from_provider(conn, tables, 1, NUMBER, code, now=START)
    (row,) = _rows(saas).values()
    assert (row["tenant_id"], row["source"], row["reason"]) == (
        3, "provider", "Unknown or inactive number (Twilio error 30005)")
    assert _opt_outs(saas) == {(3, TODAY): 1}


# -- where people see them --------------------------------------------------------------


def test_rows_show_source_and_time_in_the_api_and_the_command_line(saas: Shop) -> None:
    saas.runtime.suppressions.add(1, "+1 202 555 0199", "front desk", user_id=11)
    saas.clock.advance(60)
    assert _inbound(saas, "STOP").tenants == [1, 3]
    saas.clock.advance(60)
    with saas.engine.begin() as conn:
        assert suppress_from_provider(conn, saas.runtime.tables, 1, NOBODYS, 30006,
                                      now=int(saas.clock()))
    api = SignedClient(FlaskTransport(create_app(saas.runtime)), clock=saas.clock)
    listed = api.get("/api/v1/suppressions").json()
    expected = [(NOBODYS, "provider", START + 120), (NUMBER, "keyword", START + 60),
                ("+12025550199", "manual", START)]
    assert listed["total"] == 3
    assert [(s["phone"], s["source"], s["created_at"]) for s in listed["suppressions"]] == \
        expected
    for source in SOURCES:
        only = api.get(f"/api/v1/suppressions?source={source}").json()
        assert [(s["phone"], s["source"], s["created_at"]) for s in only["suppressions"]] == \
            [e for e in expected if e[1] == source]
        assert only["total"] == 1
    for wrong in ("opt_out", "bulk", "Manual"):
        assert_error(api.get(f"/api/v1/suppressions?source={wrong}"), 422,
                     "validation_failed", {"source": "manual, keyword, provider"})

    shown = run_cli(saas.url, "suppressions", "list", "--tenant", "1", "--json",
                    "--source", "keyword")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["total"] == 1
    (row,) = data["suppressions"]
    assert (row["phone"], row["source"], row["created_at"]) == (NUMBER, "keyword", START + 60)
    assert row["reason"].startswith('Replied "STOP" by SMS on')
    text = run_cli(saas.url, "suppressions", "list", "--tenant", "1")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert [line.split()[1:3] for line in lines[:3]] == [[p, s] for p, s, _ in expected]
    assert all(iso(at) in line for line, (_, _, at) in zip(lines, expected, strict=False))
    assert lines[-1] == "3 number(s)"
