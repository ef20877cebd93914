"""Small pure units: phone normalisation, PHP option parsing, configuration, CSV cells."""

from __future__ import annotations

import pytest

from sidecar.config import ConfigError, Settings
from sidecar.dashboard import axis_ticks
from sidecar.delivery_log import neutralise
from sidecar.outbox.poller import next_check
from sidecar.outcomes.report import DayCount
from sidecar.phones import InvalidPhone, normalise_phone, require_phone
from sidecar.phpserial import PhpSerialError, php_list, php_unserialize
from sidecar.providers.twilio import delivery_update, status_callback_update
from sidecar.web.report_page import chart_geometry

# -- phones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+12025550143", None, "+12025550143"),
        ("  +1 (202) 555-0143 ", None, "+12025550143"),
        ("12025550143", None, "+12025550143"),       # the '+' lost by a CSV import
        ("1 202 555 0143", None, "+12025550143"),
        ("(202) 555-0143", "US", "+12025550143"),     # national form needs the region
        ("(202) 555-0143", None, None),
        ("+994501234567", "US", "+994501234567"),     # explicit country wins over region
        ("+15551234567", None, None),                 # fictional range: not valid
        ("", None, None),
        ("   ", "US", None),
        (None, "US", None),
        ("n/a", "US", None),
        ("123", "US", None),
    ],
)
def test_normalise_phone(raw: str | None, region: str | None, expected: str | None) -> None:
    assert normalise_phone(raw, region) == expected


def test_require_phone_explains() -> None:
    with pytest.raises(InvalidPhone, match="empty"):
        require_phone("  ")
    with pytest.raises(InvalidPhone, match="international form"):
        require_phone("555 0143")
    assert require_phone("+12025550143") == "+12025550143"


# -- PHP serialised options --------------------------------------------------------------


def test_php_list_of_plugins() -> None:
    raw = ('a:2:{i:0;s:18:"booknetic/init.php";'
           'i:1;s:38:"booknetic-workflow-twilio-sms/init.php";}')
    assert php_list(raw) == ["booknetic/init.php", "booknetic-workflow-twilio-sms/init.php"]


def test_php_unserialize_scalars_and_utf8_byte_lengths() -> None:
    assert php_unserialize('a:3:{s:1:"a";i:-5;s:1:"b";b:1;s:1:"c";N;}') == {
        "a": -5, "b": True, "c": None}
    assert php_unserialize('s:2:"é";') == "é"  # PHP counts bytes, not characters
    assert php_unserialize("d:1.5;") == 1.5


@pytest.mark.parametrize(
    "raw",
    ['O:8:"stdClass":0:{}', 'a:1:{i:0;O:8:"stdClass":0:{}}', 's:5:"abc";', "a:2:{i:0;i:1;}",
     "i:1;junk", 'C:3:"Foo":0:{}', "x"],
)
def test_php_unserialize_refuses_objects_and_garbage(raw: str) -> None:
    with pytest.raises(PhpSerialError):
        php_unserialize(raw)


def test_php_list_empty_option() -> None:
    assert php_list(None) == [] and php_list("") == []


# -- configuration -----------------------------------------------------------------------

BASE = {"BKNTC_SMS_DATABASE_URL": "sqlite:///x.db"}


def test_settings_defaults() -> None:
    s = Settings.from_env(BASE)
    assert (s.table_prefix, s.batch_size, s.campaigns_per_tick, s.retry_delays) == (
        "wp_", 25, 5, (120, 240))
    assert s.max_attempts == 3


def test_settings_read_every_variable() -> None:
    s = Settings.from_env({
        **BASE,
        "BKNTC_SMS_TABLE_PREFIX": "wp2_",
        "BKNTC_SMS_DEFAULT_COUNTRY": "gb",
        "BKNTC_SMS_BRIDGE_SECRET": "s" * 32,
        "BKNTC_SMS_TWILIO_BASE_URL": "http://127.0.0.1:8900/",
        "BKNTC_SMS_BATCH_SIZE": "50",
        "BKNTC_SMS_CAMPAIGNS_PER_TICK": "2",
        "BKNTC_SMS_RETRY_DELAYS": "1, 2, 3",
        "BKNTC_SMS_TICK_SECONDS": "10",
        "BKNTC_SMS_RATE_PER_SECOND": "12.5",
        "BKNTC_SMS_SEND_CONCURRENCY": "8",
    })
    assert s.table_prefix == "wp2_" and s.default_country == "GB"
    assert s.twilio_base_url == "http://127.0.0.1:8900"
    assert (s.batch_size, s.campaigns_per_tick, s.retry_delays, s.tick_seconds) == (
        50, 2, (1, 2, 3), 10)
    assert (s.rate_per_second, s.send_concurrency, s.max_attempts) == (12.5, 8, 4)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BKNTC_SMS_TABLE_PREFIX", "wp_; DROP TABLE x"),
        ("BKNTC_SMS_DEFAULT_COUNTRY", "XX"),
        ("BKNTC_SMS_BRIDGE_SECRET", "short"),
        ("BKNTC_SMS_TWILIO_BASE_URL", "ftp://x"),
        ("BKNTC_SMS_BATCH_SIZE", "0"),
        ("BKNTC_SMS_BATCH_SIZE", "many"),
        ("BKNTC_SMS_CAMPAIGNS_PER_TICK", "-1"),
        ("BKNTC_SMS_RETRY_DELAYS", "120,soon"),
        ("BKNTC_SMS_TICK_SECONDS", "0"),
        ("BKNTC_SMS_RATE_PER_SECOND", "fast"),
        ("BKNTC_SMS_SEND_CONCURRENCY", "1000"),
        ("BKNTC_SMS_PUBLIC_URL", "example.com/wp-json/bkntc-sms/v1/"),
        ("BKNTC_SMS_PUBLIC_URL", "ftp://example.com/"),
        ("BKNTC_SMS_PUBLIC_URL", "https://exa mple.com/"),
        ("BKNTC_SMS_PUBLIC_URL", "https://example.com/#frag"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**BASE, name: value})


def test_missing_or_foreign_database_url() -> None:
    with pytest.raises(ConfigError, match="BKNTC_SMS_DATABASE_URL"):
        Settings.from_env({})
    with pytest.raises(ConfigError, match="BKNTC_SMS_DATABASE_URL"):
        Settings.from_env({"BKNTC_SMS_DATABASE_URL": "postgresql://x/y"})


# -- CSV cells ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", [
    "=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx",
    # blanks before the sign: spreadsheets skip them and still read a formula
    " =HYPERLINK(\"http://x\")", "  +1", "\t-1", " \t@SUM(A1)", "\n=1", "\u00a0=1",
    # the full-width signs, which some spreadsheets read as their ASCII twins
    "\uff1d1+2", "\uff0b1", "\uff0d1", "\uff20SUM(A1)", " \uff1d1", "\t\uff0b1",
    "\u3000\uff20x",
])
def test_csv_cells_that_could_run_as_formulas_are_neutralised(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["plain", " plain", "Zoë", "a=b", " a+b", "", "   ", "'=1"])
def test_csv_cells_that_cannot_run_stay_as_they_are(cell: str) -> None:
    assert neutralise(cell) == cell
    assert neutralise(None) == ""


@pytest.mark.parametrize(("given", "base"), [
    ("https://salon.example/wp-json/bkntc-sms/v1/", "https://salon.example/wp-json/bkntc-sms/v1/"),
    ("https://salon.example/wp-json/bkntc-sms/v1", "https://salon.example/wp-json/bkntc-sms/v1/"),
    ("http://127.0.0.1:8080/?rest_route=/bkntc-sms/v1/",
     "http://127.0.0.1:8080/?rest_route=/bkntc-sms/v1/"),  # plain permalinks: kept as is
])
def test_public_url_is_a_base_for_the_webhook_paths(given: str, base: str) -> None:
    assert Settings.from_env({**BASE, "BKNTC_SMS_PUBLIC_URL": given}).public_url == base
    assert Settings.from_env(BASE).public_url is None


SID = "SM" + "ab" * 16


@pytest.mark.parametrize(("status", "code", "expected"), [
    ("accepted", None, ("queued", None, "")),
    ("scheduled", None, ("queued", None, "")),
    ("queued", None, ("queued", None, "")),
    ("sending", None, ("queued", None, "")),
    ("sent", None, ("sent", None, "")),
    ("delivered", "30003", ("delivered", None, "")),  # a code on a delivery means nothing
    ("read", None, ("delivered", None, "")),
    ("UNDELIVERED", "30003", ("undelivered", 30003,
                              "unreachable: the phone is off or out of coverage (Twilio 30003)")),
    ("undelivered", "30006", ("undelivered", 30006,
                              "landline or unreachable carrier (Twilio 30006)")),
    ("failed", "30007", ("failed", 30007, "filtered by the carrier as spam (Twilio 30007)")),
    ("failed", "30008", ("failed", 30008, "unknown error at the carrier (Twilio 30008)")),
    ("failed", "39999", ("failed", 39999, "carrier error (Twilio 39999)")),
    ("failed", "", ("failed", None, "no reason given")),
    ("failed", "x1", ("failed", None, "no reason given")),
    ("failed", "99999999999", ("failed", None, "no reason given")),
    ("canceled", None, ("failed", None, "canceled before it was sent")),
])
def test_twilio_statuses_and_error_codes_in_our_words(status: str, code: str | None,
                                                      expected: tuple[object, ...]) -> None:
    made = delivery_update(SID, status, code, 123)
    assert made is not None
    assert (made.status.value, made.error_code, made.error) == expected
    assert (made.message_id, made.at) == (SID, 123)


@pytest.mark.parametrize(("sid", "status"), [
    (SID, "receiving"), (SID, "received"), (SID, "partially_delivered"), (SID, ""),
    (SID, None), ("", "delivered"), ("SM123", "delivered"), ("sm" + "ab" * 16, "delivered"),
    (SID + "0", "delivered")])
def test_statuses_we_do_not_track_give_no_update(sid: str, status: str | None) -> None:
    assert delivery_update(sid, status, None, 1) is None


def test_callback_fields_and_the_poller_schedule() -> None:
    form = {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "30005",
            "SmsStatus": "ignored"}
    made = status_callback_update(form, 7)
    assert made is not None and (made.status.value, made.error_code) == ("undelivered", 30005)
    legacy = status_callback_update({"SmsSid": SID, "SmsStatus": "sent"}, 7)
    assert legacy is not None and legacy.status.value == "sent"
    sent_at = 1_000_000
    waits, at, checks = [], sent_at + 600, 0
    while at is not None:
        checks += 1
        nxt = next_check(sent_at, checks, at)
        if nxt is not None:
            waits.append(nxt - at)
        at = nxt
    assert waits[:5] == [1200, 2400, 4800, 9600, 19200]
    assert set(waits[5:]) == {21600}  # at most 6 h apart
    assert next_check(sent_at, 1, sent_at + 72 * 3600 - 1200) == sent_at + 72 * 3600
    assert next_check(sent_at, 1, sent_at + 72 * 3600 - 1199) is None  # past 72 h


@pytest.mark.parametrize(("peak", "ticks"), [
    (0, [0, 1]), (1, [0, 1]), (3, [0, 1, 2, 3]), (4, [0, 1, 2, 3, 4]), (5, [0, 2, 4, 6]),
    (9, [0, 5, 10]), (11, [0, 5, 10, 15]), (40, [0, 10, 20, 30, 40]), (41, [0, 20, 40, 60]),
    (100, [0, 50, 100]), (1234, [0, 500, 1000, 1500])])
def test_dashboard_axis_ticks_are_round_evenly_spaced_and_reach_the_peak(
        peak: int, ticks: list[int]) -> None:
    assert axis_ticks(peak) == ticks


@pytest.mark.parametrize("peak", [1, 3, 5, 7, 13, 250])
def test_report_chart_ticks_label_their_own_height(peak: int) -> None:
    """Each y tick of the report chart sits at its value's height (a top of 5 split in
    quarters once labelled 1.25 as "1"), and no label repeats."""
    chart = chart_geometry([DayCount(20000, peak, 1), DayCount(20001, 0, 0)])
    plot = chart["base_y"] - chart["top"]
    values = [t["value"] for t in chart["ticks"]]
    assert values == sorted(set(values)) and values[0] == 0 and values[-1] >= peak
    for tick in chart["ticks"]:
        assert abs((chart["base_y"] - tick["y"]) / plot - tick["value"] / chart["peak"]) < 0.01
