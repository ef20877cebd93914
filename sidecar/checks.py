"""`bkntc-sms check`: tell an operator exactly what works and what is missing.

Each check is independent and says what to do when it fails; a failure never hides the
checks after it unless they cannot run at all (no database means nothing else can).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from .booknetic import BOOKNETIC_PLUGIN, BRIDGE_SECRET_OPTION, Booknetic, BookneticError
from .config import Settings
from .db import DatabaseUnavailable, check_connection, make_engine
from .migrations import MigrationError, status
from .phone_region import RegionResolver
from .phpserial import PhpSerialError
from .schema import sms_tables
from .tenant_settings import SettingsService


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def run_checks(settings: Settings, engine: Engine | None = None) -> list[CheckResult]:
    """Every check, in order. Uses `engine` if given, else a short-lived one of its own."""
    if engine is not None:
        return _run_checks(settings, engine)
    own = make_engine(settings.database_url, pool_size=1)
    try:
        return _run_checks(settings, own)
    finally:
        own.dispose()


def _run_checks(settings: Settings, engine: Engine) -> list[CheckResult]:
    results: list[CheckResult] = []
    try:
        version = check_connection(engine)
    except DatabaseUnavailable as exc:
        return [CheckResult("database", False, f"{exc}. Check BKNTC_SMS_DATABASE_URL.")]
    results.append(CheckResult(
        "database", True, f"{version} at {engine.url.render_as_string(hide_password=True)}"))

    bk = Booknetic(engine, settings.table_prefix)
    try:
        plugins = bk.active_plugins()
        results.append(CheckResult("wordpress", True,
                                   f"options table {settings.table_prefix}options found"))
    except (BookneticError, PhpSerialError) as exc:
        results.append(CheckResult("wordpress", False, str(exc)))
        return results

    try:
        customers, appointments = bk.customers, bk.appointments
        counts = bk.counts(None) if not bk.multi_tenant or not bk.is_saas() else None
        version_text = bk.booknetic_version() or "unknown version"
        active = "active" if BOOKNETIC_PLUGIN in plugins else (
            "NOT active in WordPress (its tables are here, but activate the plugin)")
        detail = f"Booknetic {version_text}, plugin {active}; tables {customers.name}, " \
                 f"{appointments.name} found"
        if counts is not None:
            detail += f" ({counts['customers']} customers, {counts['appointments']} " \
                      "appointments)"
        results.append(CheckResult("booknetic", BOOKNETIC_PLUGIN in plugins, detail))
    except BookneticError as exc:
        results.append(CheckResult("booknetic", False, str(exc)))
        return results

    if bk.is_saas():
        tenants = bk.tenant_ids()
        results.append(CheckResult("mode", True, f"SaaS: {len(tenants)} tenants"))
    elif bk.multi_tenant:
        results.append(CheckResult("mode", True, "single-site (tenant_id columns present, "
                                                 "all rows use the NULL tenant)"))
    else:
        results.append(CheckResult("mode", True, "single-site (no tenant_id columns)"))

    results.append(_phone_region_check(settings, bk, engine))
    results.append(_timezone_check(bk))

    schema = _schema_check(settings, engine)
    results.append(schema)
    if schema.ok:
        results.append(fleet_check(settings, engine))

    twilio = bk.twilio_status()
    if twilio.ready:
        shown = twilio.public()
        results.append(CheckResult("twilio", True,
                                   f"Twilio SMS add-on active and configured (account "
                                   f"{shown['account_sid']}, sender {twilio.sender})"))
    else:
        results.append(CheckResult("twilio", False, str(twilio.problem)))

    if settings.bridge_secret:
        results.append(CheckResult("bridge", True,
                                   "bridge secret set by BKNTC_SMS_BRIDGE_SECRET"))
    elif bk.option(BRIDGE_SECRET_OPTION):
        results.append(CheckResult("bridge", True,
                                   f"bridge secret found in option {BRIDGE_SECRET_OPTION}"))
    else:
        results.append(CheckResult("bridge", False,
                                   f"no bridge secret: activate the Booknetic SMS Campaigns "
                                   f"bridge plugin in WordPress (it creates the option "
                                   f"{BRIDGE_SECRET_OPTION}) or set BKNTC_SMS_BRIDGE_SECRET"))
    return results


def _schema_check(settings: Settings, engine: Engine) -> CheckResult:
    """Where the sidecar's tables stand against this code's migrations."""
    try:
        found = status(engine, settings.table_prefix)
    except MigrationError as exc:
        return CheckResult("sidecar schema", False, str(exc))
    if found.state == "empty":
        return CheckResult("sidecar schema", False,
                           "the bkntc_sms_* tables do not exist yet: run `bkntc-sms migrate` "
                           "(serve and worker also do it at start)")
    if found.state == "newer":
        return CheckResult("sidecar schema", False, " ".join(found.lines()[2:]))
    if found.pending:
        return CheckResult("sidecar schema", False,
                           f"revision {found.current}, {len(found.pending)} migration(s) to "
                           f"apply up to {found.head}: run `bkntc-sms migrate` (serve and "
                           "worker also do it at start)")
    return CheckResult("sidecar schema", True, f"revision {found.current} (the head of "
                                               f"bkntc-sms {found.code_version})")


def fleet_check(settings: Settings, engine: Engine, now: int | None = None) -> CheckResult:
    """The processes running the queue now (DESIGN.md §13), the campaigns each leases, and
    a warning when their rates differ (the lowest is the one in force)."""
    from .outbox.fleet import live_processes
    from .schema import sms_tables

    now = int(time.time()) if now is None else now
    live = live_processes(engine, sms_tables(settings.table_prefix), now)
    if not live:
        return CheckResult("processes", True, "no process is running the queue now (start "
                                              "`bkntc-sms worker` or `serve`)")
    parts = []
    for p in live:
        leases = (f"sending campaign(s) {', '.join(map(str, p.campaigns))}" if p.campaigns
                  else "no campaign leased")
        rate = f"{p.rate_per_second:g}/s" if p.rate_per_second > 0 else "no limit"
        parts.append(f"{p.host} pid {p.pid} (bkntc-sms {p.version}, rate {rate}, seen "
                     f"{max(now - p.seen_at, 0)} s ago): {leases}")
    detail = f"{len(live)} live: " + "; ".join(parts)
    rates = {p.rate_per_second for p in live}
    if len(rates) > 1:
        limits = [r for r in rates if r > 0]
        detail += (f". WARNING: the processes are configured with different "
                   f"BKNTC_SMS_RATE_PER_SECOND values; the lowest ({min(limits):g}/s) is in "
                   "force for all of them — set the same value everywhere")
    return CheckResult("processes", True, detail)


REGION_CHECK_TENANTS = 20  # tenants listed by name in the phone-region check; the rest counted


def _own_country(settings: Settings, engine: Engine) -> Callable[[int | None], str | None]:
    """Each tenant's own default_country setting, or None before our tables exist (the
    schema check says so)."""
    service = SettingsService(engine, sms_tables(settings.table_prefix))

    def read(tenant_id: int | None) -> str | None:
        try:
            return service.default_country(tenant_id)
        except DBAPIError:
            return None

    return read


def _phone_region_check(settings: Settings, bk: Booknetic, engine: Engine) -> CheckResult:
    """The default region each tenant's phone numbers are read with, and where it came
    from (never a failure: without one, numbers simply need their country code)."""
    resolver = RegionResolver(bk, override=settings.default_country,
                              tenant_setting=_own_country(settings, engine))
    single = resolver.choice(None)
    hint = ("" if single.region else
            " — set Booknetic → Settings → Booking panel steps → Information → Default "
            "phone country code, or BKNTC_SMS_DEFAULT_COUNTRY")
    if not bk.is_saas():
        return CheckResult("phone region", True, single.describe() + hint)
    tenants = bk.tenant_ids()
    parts = [f"no tenant: {single.describe()}"]
    parts += [f"tenant {t}: {resolver.choice(t).describe()}"
              for t in tenants[:REGION_CHECK_TENANTS]]
    if len(tenants) > REGION_CHECK_TENANTS:
        parts.append(f"and {len(tenants) - REGION_CHECK_TENANTS} more tenants")
    return CheckResult("phone region", True, "; ".join(parts))


def _timezone_check(bk: Booknetic) -> CheckResult:
    """The timezone each tenant's times are shown in and where it came from (never a
    failure: without one, UTC is used)."""
    def describe(tenant_id: int | None) -> str:
        zone = bk.business_zone(tenant_id)
        return zone.describe() + "".join(f"; ignored {note}" for note in zone.ignored)

    if not bk.is_saas():
        return CheckResult("timezone", True, describe(None))
    tenants = bk.tenant_ids()
    parts = [f"no tenant: {describe(None)}"]
    parts += [f"tenant {t}: {describe(t)}" for t in tenants[:REGION_CHECK_TENANTS]]
    if len(tenants) > REGION_CHECK_TENANTS:
        parts.append(f"and {len(tenants) - REGION_CHECK_TENANTS} more tenants")
    return CheckResult("timezone", True, "; ".join(parts))
