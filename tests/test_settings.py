"""Tenant settings (DESIGN.md §11 "Tenant settings"; sidecar/tenant_settings.py): the value
object's rules, the API (`GET|PUT /api/v1/settings`), the command line (`settings
show|set`), and `default_country` in the phone-region resolver above the environment.

Capabilities, tenancy, CSRF and garbage for the two routes are in the security matrix and
test_web_garbage.py (ENDPOINTS, POISONED); here is what the settings themselves mean.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from sidecar.config import Settings
from sidecar.phone_region import TENANT_SETTING
from sidecar.runtime import Runtime
from sidecar.sample_data import build_booknetic
from sidecar.segments import SegmentQuery
from sidecar.tenant_settings import KEYS, SettingsInvalid, TenantSettings
from tests.conftest import MariaDBServer
from tests.test_cli import run_cli
from tests.test_phone_region import expected, phone_rows
from tests.web_support import (
    SUPER,
    TENANT1,
    TENANT2,
    VIEW,
    SignedClient,
    Web,
    assert_error,
    web_fixture,
)

START = 1_780_000_000
PREFIX = "wp_"
DEFAULTS = {"quiet_hours": {"start": "09:00", "end": "20:00"}, "frequency_cap": None,
            "attribution_days": 7, "holdout_percent": 0, "price_per_segment": None,
            "default_country": None}


# -- the value -------------------------------------------------------------------------------


def test_the_defaults_are_the_contracts() -> None:
    assert TenantSettings().to_json() == DEFAULTS
    assert list(DEFAULTS) == list(KEYS)
    assert TenantSettings().stored_json() == {}  # nothing chosen, nothing stored


def test_a_partial_object_changes_only_its_keys_and_marks_them_chosen() -> None:
    mine = TenantSettings.from_json({"attribution_days": 14, "quiet_hours": None})
    assert mine.to_json() == {**DEFAULTS, "attribution_days": 14, "quiet_hours": None}
    assert mine.stored_json() == {"attribution_days": 14, "quiet_hours": None}
    again = mine.changed({"frequency_cap": {"max": 2, "days": 30}, "attribution_days": 7})
    # Set back to the default's value: still chosen (a later default does not move it).
    assert again.stored_json() == {"attribution_days": 7, "quiet_hours": None,
                                   "frequency_cap": {"max": 2, "days": 30}}
    assert again.is_default("holdout_percent") and not again.is_default("attribution_days")
    assert again.quiet_hours is None and again.frequency_cap is not None
    assert TenantSettings.from_json(again.stored_json()) == again


def test_quiet_hours_give_minutes_for_the_engine() -> None:
    hours = TenantSettings.from_json({"quiet_hours": {"start": "08:30", "end": "21:05"}})
    assert hours.quiet_hours is not None
    assert (hours.quiet_hours.start_minute, hours.quiet_hours.end_minute) == (510, 1265)


@pytest.mark.parametrize(("value", "stored", "shown"), [
    ("0.0079", "0.0079", 0.0079), (0.0079, "0.0079", 0.0079), ("0.0100", "0.01", 0.01),
    (0, "0", 0.0), ("999.999999", "999.999999", 999.999999), (12, "12", 12.0),
    (" 0.05 ", "0.05", 0.05), ("1E+2", "100", 100.0),
])
def test_price_per_segment_keeps_its_exact_decimal(value: Any, stored: str,
                                                   shown: float) -> None:
    mine = TenantSettings.from_json({"price_per_segment": value})
    assert mine.price_per_segment == Decimal(stored)
    assert mine.stored_json() == {"price_per_segment": stored}
    assert mine.to_json()["price_per_segment"] == shown
    assert TenantSettings.from_json(mine.stored_json()) == mine


BAD = [
    ({"quiet_hours": {"start": "9:00", "end": "20:00"}}, {"quiet_hours.start": "HH:MM"}),
    ({"quiet_hours": {"start": "09:00", "end": "24:00"}}, {"quiet_hours.end": "HH:MM"}),
    ({"quiet_hours": {"start": "09:00", "end": "8pm"}}, {"quiet_hours.end": "HH:MM"}),
    ({"quiet_hours": {"start": "20:00", "end": "09:00"}},
     {"quiet_hours.end": "later than the start (20:00)"}),
    ({"quiet_hours": {"start": "09:00", "end": "09:00"}}, {"quiet_hours.end": "later"}),
    ({"quiet_hours": {"start": "\u0660\u0669:\u0660\u0660", "end": "20:00"}},
     {"quiet_hours.start": "HH:MM"}),  # Arabic-Indic digits
    ({"quiet_hours": {"end": "20:00"}}, {"quiet_hours.start": "is required"}),
    ({"quiet_hours": {"start": "09:00", "end": "20:00", "tz": "UTC"}},
     {"quiet_hours": "only start and end"}),
    ({"quiet_hours": "09:00-20:00"}, {"quiet_hours": '{"start": "HH:MM"'}),
    ({"quiet_hours": True}, {"quiet_hours": "or null"}),
    ({"frequency_cap": {"max": 0, "days": 7}}, {"frequency_cap.max": "from 1 to 100"}),
    ({"frequency_cap": {"max": 2, "days": 366}}, {"frequency_cap.days": "from 1 to 365"}),
    ({"frequency_cap": {"max": 2.5, "days": "7"}},
     {"frequency_cap.max": "whole number", "frequency_cap.days": "whole number"}),
    ({"frequency_cap": {"max": True, "days": 7}}, {"frequency_cap.max": "whole number"}),
    ({"frequency_cap": 3}, {"frequency_cap": '{"max": N, "days": D}'}),
    ({"attribution_days": 0}, {"attribution_days": "from 1 to 90"}),
    ({"attribution_days": 91}, {"attribution_days": "from 1 to 90"}),
    ({"attribution_days": None}, {"attribution_days": "whole number"}),
    ({"attribution_days": "7"}, {"attribution_days": "whole number"}),
    ({"holdout_percent": 51}, {"holdout_percent": "from 0 to 50"}),
    ({"holdout_percent": -1}, {"holdout_percent": "from 0 to 50"}),
    ({"holdout_percent": 12.5}, {"holdout_percent": "whole number"}),
    ({"price_per_segment": -0.01}, {"price_per_segment": "0 or more"}),
    ({"price_per_segment": "0.0000001"}, {"price_per_segment": "at most 6 decimals"}),
    ({"price_per_segment": 1e-7}, {"price_per_segment": "at most 6 decimals"}),
    ({"price_per_segment": 1000}, {"price_per_segment": "below 1000"}),
    ({"price_per_segment": "NaN"}, {"price_per_segment": "price"}),
    ({"price_per_segment": "Infinity"}, {"price_per_segment": "price"}),
    ({"price_per_segment": "$0.01"}, {"price_per_segment": "price"}),
    ({"price_per_segment": True}, {"price_per_segment": "price"}),
    ({"price_per_segment": [0.01]}, {"price_per_segment": "price"}),
    ({"price_per_segment": "9" * 5000}, {"price_per_segment": "price"}),
    ({"default_country": "USA"}, {"default_country": "two-letter country code"}),
    ({"default_country": "ZZ"}, {"default_country": "two-letter country code"}),
    ({"default_country": 1}, {"default_country": "two-letter country code"}),
    ({"colour": "red"}, {"colour": "unknown setting; the settings are quiet_hours"}),
    ({"attribution_days": 0, "holdout_percent": 99, "default_country": "XX"},
     {"attribution_days": "", "holdout_percent": "", "default_country": ""}),
]


@pytest.mark.parametrize(("changes", "fields"), BAD)
def test_bad_values_are_refused_naming_each_field(changes: dict[str, Any],
                                                  fields: dict[str, str]) -> None:
    with pytest.raises(SettingsInvalid) as refused:
        TenantSettings.from_json(changes)
    assert set(refused.value.errors) == set(fields)
    for name, fragment in fields.items():
        assert fragment in refused.value.errors[name], (name, refused.value.errors[name])


def test_a_change_with_one_bad_value_changes_nothing() -> None:
    mine = TenantSettings.from_json({"attribution_days": 14})
    with pytest.raises(SettingsInvalid):
        mine.changed({"attribution_days": 30, "holdout_percent": 60})
    assert mine.attribution_days == 14 and mine.holdout_percent == 0


def test_lower_case_and_empty_countries() -> None:
    assert TenantSettings.from_json({"default_country": " gb "}).default_country == "GB"
    assert TenantSettings.from_json({"default_country": ""}).default_country is None
    assert TenantSettings.from_json({"price_per_segment": ""}).price_per_segment is None


def test_a_stored_value_a_release_no_longer_accepts_falls_back_to_its_default() -> None:
    stored = json.dumps({"quiet_hours": {"start": "25:00", "end": "26:00"},
                         "attribution_days": 30, "gone": 1})
    read = TenantSettings.from_stored(stored)
    assert read.to_json() == {**DEFAULTS, "attribution_days": 30}
    assert read.chosen == {"attribution_days"}
    assert TenantSettings.from_stored("not json").to_json() == DEFAULTS
    assert TenantSettings.from_stored("[1, 2]").to_json() == DEFAULTS


# -- the API ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb, customers=10, quiet_hours=True)


@pytest.fixture
def api(web: Web) -> Iterator[SignedClient]:
    yield web.client
    with web.engine.begin() as conn:  # each test starts from the defaults
        conn.execute(web.runtime.tables.settings.delete())


def stored_rows(web: Web) -> dict[int, dict[str, Any]]:
    s = web.runtime.tables.settings
    with web.engine.connect() as conn:
        return {int(r.tenant_id): json.loads(r.settings) for r in conn.execute(select(s))}


def test_get_put_partial_and_per_tenant(web: Web, api: SignedClient) -> None:
    assert api.get("/api/v1/settings").json() == DEFAULTS
    assert api.get("/api/v1/settings", who=TENANT1.with_caps(VIEW)).json() == DEFAULTS
    reply = api.put("/api/v1/settings", {"quiet_hours": {"start": "08:30", "end": "21:00"},
                                         "price_per_segment": 0.0079})
    assert reply.status == 200, reply
    whole = {**DEFAULTS, "quiet_hours": {"start": "08:30", "end": "21:00"},
             "price_per_segment": 0.0079}
    assert reply.json() == whole
    assert api.get("/api/v1/settings").json() == whole
    # Only what was set is stored; the other tenants keep every default.
    assert stored_rows(web) == {1: {"quiet_hours": {"start": "08:30", "end": "21:00"},
                                    "price_per_segment": "0.0079"}}
    assert api.get("/api/v1/settings", who=TENANT2).json() == DEFAULTS
    assert api.get("/api/v1/settings", who=SUPER).json() == DEFAULTS

    # null turns a setting off; the next partial change keeps the earlier ones.
    assert api.put("/api/v1/settings", {"quiet_hours": None}).json()["quiet_hours"] is None
    reply = api.put("/api/v1/settings", {"frequency_cap": {"max": 3, "days": 30},
                                         "default_country": "gb"})
    assert reply.json() == {**whole, "quiet_hours": None, "default_country": "GB",
                            "frequency_cap": {"max": 3, "days": 30}}
    # The site's own (no tenant) settings are row 0.
    api.put("/api/v1/settings", {"holdout_percent": 10}, who=SUPER)
    assert stored_rows(web)[0] == {"holdout_percent": 10}
    assert api.get("/api/v1/settings").json()["holdout_percent"] == 0


def test_an_empty_change_writes_nothing(web: Web, api: SignedClient) -> None:
    assert api.put("/api/v1/settings", {}).json() == DEFAULTS
    assert stored_rows(web) == {}


# Start after end, a cap of 0, a negative price, an unknown key, three bad at once.
@pytest.mark.parametrize(("changes", "fields"), [BAD[3], BAD[10], BAD[22], BAD[-2], BAD[-1]])
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
        web: Web, api: SignedClient, changes: dict[str, Any], fields: dict[str, str]) -> None:
    api.put("/api/v1/settings", {"attribution_days": 12})
    before = stored_rows(web)
    assert_error(api.put("/api/v1/settings", changes), 422, "validation_failed",
                 fields=fields)
    assert stored_rows(web) == before
    assert_error(api.put("/api/v1/settings", ["not", "an", "object"]), 400, "bad_request")


def test_two_processes_changing_different_settings_keep_both(web: Web,
                                                            api: SignedClient) -> None:
    other = web.other_runtime()
    web.runtime.tenant_settings.update(1, {"attribution_days": 21}, user_id=5)
    other.tenant_settings.update(1, {"holdout_percent": 20}, user_id=6)
    assert other.tenant_settings.for_tenant(1).to_json() == {
        **DEFAULTS, "attribution_days": 21, "holdout_percent": 20}
    assert api.get("/api/v1/settings").json()["attribution_days"] == 21


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def site(sqlite_url: str, engine_for) -> str:
    build_booknetic(engine_for(sqlite_url), PREFIX, "saas", START, customers_per_tenant=3,
                    phone_countries={None: "us"})
    return sqlite_url


def cli_json(url: str, *args: str) -> Any:
    done = run_cli(url, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_settings_show_and_set_from_the_command_line(site: str) -> None:
    assert cli_json(site, "settings", "show") == DEFAULTS
    assert cli_json(site, "settings", "show", "--tenant", "2") == DEFAULTS
    changed = cli_json(site, "settings", "set", "quiet_hours",
                       '{"start":"08:30","end":"21:00"}', "--tenant", "2")
    assert changed == {**DEFAULTS, "quiet_hours": {"start": "08:30", "end": "21:00"}}
    assert cli_json(site, "settings", "set", "frequency_cap", '{"max": 2, "days": 14}',
                    "--tenant", "2")["frequency_cap"] == {"max": 2, "days": 14}
    assert cli_json(site, "settings", "set", "quiet_hours", "null", "--tenant", "2")[
        "quiet_hours"] is None
    # Text that is no JSON is taken as text: a country needs no quotes.
    assert cli_json(site, "settings", "set", "default_country", "gb", "--tenant", "2")[
        "default_country"] == "GB"
    assert cli_json(site, "settings", "set", "price_per_segment", "0.0079", "--tenant", "2")[
        "price_per_segment"] == 0.0079
    assert cli_json(site, "settings", "show", "--tenant", "2") == {
        **DEFAULTS, "quiet_hours": None, "frequency_cap": {"max": 2, "days": 14},
        "default_country": "GB", "price_per_segment": 0.0079}
    assert cli_json(site, "settings", "show") == DEFAULTS  # the site's own: untouched

    shown = run_cli(site, "settings", "show", "--tenant", "2").stdout.splitlines()
    assert shown == [
        "quiet_hours        off",
        "frequency_cap      at most 2 in 14 days",
        "attribution_days   7 days  (default)",
        "holdout_percent    0% of each new campaign  (default)",
        "price_per_segment  0.0079 per segment",
        "default_country    GB",
        "timezone           Europe/Berlin (Booknetic's timezone for this business)"]
    default_country = run_cli(site, "settings", "show").stdout.splitlines()[5]
    assert default_country == ("default_country    not set: US (Booknetic option "
                               "bkntc_default_phone_country_code)  (default)")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["quiet_hours", '{"start":"21:00","end":"08:30"}'], 2,
     "bkntc-sms: quiet_hours.end: must be later than the start (21:00)"),
    (["quiet_hours", "8:30-21:00"], 2, "bkntc-sms: quiet_hours: must be {"),
    (["holdout_percent", "75"], 2, "bkntc-sms: holdout_percent: must be a whole number"),
    (["price_per_segment", "NaN"], 2, "bkntc-sms: price_per_segment: must be a price"),
    (["colour", "red"], 2, "bkntc-sms: colour: unknown setting"),
    (["attribution_days", "3", "--tenant", "9"], 1, "bkntc-sms: tenant 9 does not exist"),
])
def test_bad_input_on_the_command_line_names_the_key(site: str, args: list[str], code: int,
                                                     message: str) -> None:
    done = run_cli(site, "settings", "set", *args)
    assert done.returncode == code, done
    assert done.stderr.startswith(message), done.stderr
    assert cli_json(site, "settings", "show") == DEFAULTS


# -- default_country in the phone region ------------------------------------------------------


def runtime_for(url: str, env: dict[str, str] | None = None) -> Runtime:
    runtime = Runtime.build(Settings.from_env({"BKNTC_SMS_DATABASE_URL": url, **(env or {})}),
                            clock=lambda: START)
    runtime.segments.PREVIEW_REFRESH_SECONDS = 0.0  # every preview checks the phones again
    return runtime


@pytest.fixture
def closing() -> Iterator[list[Runtime]]:
    made: list[Runtime] = []
    yield made
    for runtime in made:
        runtime.close()


def test_the_tenants_country_comes_before_the_environment_and_booknetic(
        any_url: str, engine_for, closing: list[Runtime]) -> None:
    engine: Engine = engine_for(any_url)
    ds = build_booknetic(engine, PREFIX, "saas", START, customers_per_tenant=60,
                         phone_countries={None: "us", 1: "de"})
    plain, overridden = runtime_for(any_url), runtime_for(any_url,
                                                          {"BKNTC_SMS_DEFAULT_COUNTRY": "CA"})
    closing += [plain, overridden]
    assert [plain.regions.region(t) for t in (1, 2)] == ["DE", "US"]
    assert [overridden.regions.region(t) for t in (1, 2)] == ["CA", "CA"]

    plain.tenant_settings.update(1, {"default_country": "GB"})
    for runtime in (plain, overridden):  # read at once, by every process
        choice = runtime.regions.choice(1)
        assert (choice.region, choice.source) == ("GB", TENANT_SETTING)
    assert overridden.regions.region(2) == "CA"
    # What the Settings page offers as "Booknetic's setting": everything below the tenant's.
    assert plain.regions.inherited(1).region == "DE"
    assert overridden.regions.inherited(1).source == "environment BKNTC_SMS_DEFAULT_COUNTRY"

    # The phone table does not flip: each country's numbers are parsed into their own rows,
    # and going back finds the first country's rows as they were.
    def counts(segment: str) -> tuple[int, int, int]:
        p = plain.segments.preview(SegmentQuery(segment, 1), limit=0)
        return p.count, p.skipped_invalid_phone, p.skipped_duplicate_phone

    assert counts("all_with_phone") == expected(ds, 1, "all_with_phone", "GB")
    gb_rows = phone_rows(engine, "GB")
    plain.tenant_settings.update(1, {"default_country": None})
    assert counts("all_with_phone") == expected(ds, 1, "all_with_phone", "DE")
    de_rows = phone_rows(engine, "DE")
    assert expected(ds, 1, "all_with_phone", "DE") != expected(ds, 1, "all_with_phone", "GB")
    plain.tenant_settings.update(1, {"default_country": "GB"})
    assert counts("inactive_90") == expected(ds, 1, "inactive_90", "GB")
    assert phone_rows(engine, "GB") == gb_rows and phone_rows(engine, "DE") == de_rows
