"""Each tenant's own settings (DESIGN.md §11 "Tenant settings"), validated and defaulted here
and nowhere else.

`TenantSettings` is the typed value: `from_json()` reads an object of settings (refusing bad
values with every field named), `changed()` applies a partial object, `to_json()` is the
whole object the API and `settings show --json` print (every key; off = null).

Storage: one row per tenant in `bkntc_sms_settings` (tenant 0 = no tenant) whose JSON holds
only the keys the tenant has *set*. Defaults are never written, so a default changed by a
later release reaches every tenant who never chose otherwise; a key set to the default's
value stays set (someone chose it). The engine reads `SettingsService.for_tenant()` (one
primary-key read, uncached, so a change made by any process applies at its next read).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from sqlalchemy import Engine, select, update

from .db import insert_ignore
from .errors import Invalid
from .schema import SmsTables
from .segments import tenant_key

log = logging.getLogger(__name__)

HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")  # 24-hour, ASCII digits only
CAP_MAX = (1, 100)  # messages per number
CAP_DAYS = (1, 365)
ATTRIBUTION_DAYS = (1, 90)
HOLDOUT_PERCENT = (0, 50)
PRICE_PLACES = 6  # Twilio prices have 4 decimals; room for other currencies
PRICE_LIMIT = Decimal(1000)  # per segment: anything near it is a typo


class SettingsInvalid(Invalid):
    """A setting that cannot be used; `errors` names each field ("quiet_hours.start")."""


@dataclass(frozen=True)
class QuietHours:
    """Campaign messages go out only between `start` and `end` (24-hour "HH:MM", start <
    end, the same day) in each recipient's own timezone."""

    start: str
    end: str

    @property
    def start_minute(self) -> int:
        """Minutes after local midnight the window opens."""
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        """Minutes after local midnight the window closes (exclusive)."""
        return _minutes(self.end)

    def to_json(self) -> dict[str, str]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class FrequencyCap:
    """At most `max` campaign messages to one number in `days` days."""

    max: int
    days: int

    def to_json(self) -> dict[str, int]:
        return {"max": self.max, "days": self.days}


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class _Bad(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Bad({name: f"must be a whole number from {low} to {high}"})
    return value


def _quiet_hours(value: Any) -> QuietHours | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _Bad({"quiet_hours": 'must be {"start": "HH:MM", "end": "HH:MM"}, or null '
                                   "for no quiet hours"})
    errors: dict[str, str] = {}
    if set(value) - {"start", "end"}:
        errors["quiet_hours"] = "takes only start and end"
    for part in ("start", "end"):
        raw = value.get(part)
        if not isinstance(raw, str) or not HHMM.fullmatch(raw):
            errors[f"quiet_hours.{part}"] = ("is required" if raw is None else "must be") + \
                " a 24-hour time HH:MM, e.g. " + ("09:00" if part == "start" else "20:00")
    if errors:
        raise _Bad(errors)
    hours = QuietHours(value["start"], value["end"])
    if hours.start_minute >= hours.end_minute:
        raise _Bad({"quiet_hours.end": f"must be later than the start ({hours.start}): "
                                       "the sending window is within one day"})
    return hours


def _frequency_cap(value: Any) -> FrequencyCap | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _Bad({"frequency_cap": 'must be {"max": N, "days": D}, or null for no cap'})
    errors: dict[str, str] = {}
    if set(value) - {"max", "days"}:
        errors["frequency_cap"] = "takes only max and days"
    parsed: dict[str, int] = {}
    for part, (low, high) in (("max", CAP_MAX), ("days", CAP_DAYS)):
        try:
            parsed[part] = _whole(value.get(part), f"frequency_cap.{part}", low, high)
        except _Bad as exc:
            errors.update(exc.errors)
    if errors:
        raise _Bad(errors)
    return FrequencyCap(parsed["max"], parsed["days"])


def _price(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    problem = (f"must be a price per SMS segment, 0 or more and below {PRICE_LIMIT}, with at "
               f"most {PRICE_PLACES} decimals (e.g. 0.0079), or null")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Bad({"price_per_segment": problem})
    # A float is read back from its shortest text (0.0079, not 0.00789999…).
    text = (value if isinstance(value, str) else repr(value)).strip()
    try:
        price = Decimal(text) if len(text) <= 40 else Decimal("NaN")
    except InvalidOperation:
        raise _Bad({"price_per_segment": problem}) from None
    if not price.is_finite() or not 0 <= price < PRICE_LIMIT:
        raise _Bad({"price_per_segment": problem})
    exponent = price.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > PRICE_PLACES:
        raise _Bad({"price_per_segment": problem})
    return price.normalize() if price else Decimal(0)  # 0.0100 → 0.01; 0.000 → 0


def _country(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise _Bad({"default_country": "must be a two-letter country code phone numbers use "
                                       "(e.g. US, GB), or null for Booknetic's own setting"})
    return code


PARSERS: dict[str, Callable[[Any], Any]] = {
    "quiet_hours": _quiet_hours,
    "frequency_cap": _frequency_cap,
    "attribution_days": lambda v: _whole(v, "attribution_days", *ATTRIBUTION_DAYS),
    "holdout_percent": lambda v: _whole(v, "holdout_percent", *HOLDOUT_PERCENT),
    "price_per_segment": _price,
    "default_country": _country,
}
KEYS = tuple(PARSERS)


@dataclass(frozen=True)
class TenantSettings:
    """One tenant's settings; the field defaults here are THE defaults (DESIGN.md §11)."""

    quiet_hours: QuietHours | None = QuietHours("09:00", "20:00")
    frequency_cap: FrequencyCap | None = None
    attribution_days: int = 7
    holdout_percent: int = 0
    price_per_segment: Decimal | None = None
    default_country: str | None = None  # None: Booknetic's own setting
    # The keys the tenant has set; the others follow the defaults above.
    chosen: frozenset[str] = field(default=frozenset(), compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TenantSettings:
        """Defaults with the settings in `data` (an object of some or all keys), all
        validated; SettingsInvalid names every field that is wrong or unknown."""
        return cls().changed(data)

    def changed(self, changes: Mapping[str, Any]) -> TenantSettings:
        """These settings with `changes` (a partial object) applied and marked as chosen;
        nothing applies unless every change is valid."""
        if not isinstance(changes, Mapping):
            raise SettingsInvalid({"settings": "must be an object of settings"})
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for key, value in changes.items():
            parser = PARSERS.get(key)
            if parser is None:
                errors[str(key)] = f"unknown setting; the settings are {', '.join(KEYS)}"
                continue
            try:
                values[key] = parser(value)
            except _Bad as exc:
                errors.update(exc.errors)
        if errors:
            raise SettingsInvalid(errors)
        return replace(self, **values, chosen=self.chosen | frozenset(values))

    @classmethod
    def from_stored(cls, raw: str) -> TenantSettings:
        """A stored row, leniently: a value that a later release no longer accepts falls
        back to the default (logged) instead of breaking every page and send."""
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning("tenant settings row is not a JSON object; using the defaults")
            return cls()
        result = cls()
        for key, value in data.items():
            try:
                result = result.changed({key: value})
            except SettingsInvalid as exc:
                log.warning("stored setting %s ignored: %s", key, exc)
        return result

    def to_json(self) -> dict[str, Any]:
        """Every setting (DESIGN.md §11): what the API returns and `settings show --json`
        prints. Off is null; the price is a JSON number."""
        return {
            "quiet_hours": self.quiet_hours.to_json() if self.quiet_hours else None,
            "frequency_cap": self.frequency_cap.to_json() if self.frequency_cap else None,
            "attribution_days": self.attribution_days,
            "holdout_percent": self.holdout_percent,
            "price_per_segment": (None if self.price_per_segment is None
                                  else float(self.price_per_segment)),
            "default_country": self.default_country,
        }

    def stored_json(self) -> dict[str, Any]:
        """The chosen keys only, as the row keeps them (the price as exact text)."""
        whole = self.to_json()
        if self.price_per_segment is not None:
            whole["price_per_segment"] = format(self.price_per_segment, "f")
        return {key: whole[key] for key in KEYS if key in self.chosen}

    def is_default(self, key: str) -> bool:
        return key not in self.chosen


DEFAULTS = TenantSettings()


class SettingsService:
    """Reads and changes tenants' settings (`bkntc_sms_settings`)."""

    def __init__(self, engine: Engine, tables: SmsTables, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.tables, self.clock = engine, tables, clock

    def for_tenant(self, tenant_id: int | None) -> TenantSettings:
        """The tenant's settings (the defaults where nothing is set): one key read."""
        s = self.tables.settings
        with self.engine.connect() as conn:
            raw = conn.execute(select(s.c.settings)
                               .where(s.c.tenant_id == tenant_key(tenant_id))).scalar()
        return DEFAULTS if raw is None else TenantSettings.from_stored(raw)

    def default_country(self, tenant_id: int | None) -> str | None:
        """The tenant's own default phone country, if it set one (phone_region.py)."""
        return self.for_tenant(tenant_id).default_country

    def update(self, tenant_id: int | None, changes: Mapping[str, Any], *,
               user_id: int | None = None) -> TenantSettings:
        """Apply a partial object of settings and return them all. Every value is checked
        before anything is written (SettingsInvalid names each bad field); two updates at
        once to different keys both stay (the row is locked while it is merged)."""
        DEFAULTS.changed(changes)  # refuse bad input before touching the database
        if not changes:
            return self.for_tenant(tenant_id)
        s, key, now = self.tables.settings, tenant_key(tenant_id), int(self.clock())
        with self.engine.begin() as conn:
            insert_ignore(conn, s, [{"tenant_id": key, "settings": "{}", "updated_by": user_id,
                                     "updated_at": now}])
            raw = conn.execute(select(s.c.settings).where(s.c.tenant_id == key)
                               .with_for_update()).scalar_one()
            merged = TenantSettings.from_stored(raw).changed(changes)
            conn.execute(update(s).where(s.c.tenant_id == key).values(
                settings=json.dumps(merged.stored_json(), sort_keys=True),
                updated_by=user_id, updated_at=now))
        return merged
