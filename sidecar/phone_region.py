"""Which country a phone number written without a country code belongs to, per tenant.

Booknetic keeps that choice itself: "Default phone country code" under Settings → Booking
panel steps → Information, stored by `Helper::setOption('default_phone_country_code', …)`
as intl-tel-input's lower-case ISO 3166 code ("us"), or "" when no country is picked.
In SaaS the option is per tenant (`bkntc_t{ID}_…`). Every part of the sidecar that parses
a number — segments and their phone table, suppressions, test and one-off SMS, the CLI,
the customer search — asks this one resolver, so they all agree for a tenant.

Precedence, first that gives a country wins:
  1. the tenant's own sidecar setting (DESIGN.md §11 `default_country`, the Settings page;
     read on every call, so a change applies at once in every process);
  2. the operator's override, BKNTC_SMS_DEFAULT_COUNTRY;
  3. Booknetic's option for the tenant, `bkntc_t{ID}_default_phone_country_code` (SaaS);
  4. Booknetic's global option, `bkntc_default_phone_country_code`;
  5. none: only numbers written with their country code are valid.

Changing the country never rewrites anything: the phone table is keyed by region, so the
numbers read with the new country are parsed into their own rows, and those of the old one
stay for when it comes back (sidecar/segments/phone_table.py).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from phonenumbers.geocoder import country_name_for_number

from .booknetic import Booknetic, BookneticError

ENV_OVERRIDE = "BKNTC_SMS_DEFAULT_COUNTRY"
TENANT_SETTING = "the tenant's setting default_country"


@dataclass(frozen=True)
class RegionChoice:
    """The default region of one tenant and where it came from (for `check` and logs)."""

    region: str | None  # ISO 3166 alpha-2, upper case; None = no default region
    source: str
    ignored: tuple[str, ...] = ()  # settings that were set but are not a country code

    def describe(self) -> str:
        shown = f"{self.region or 'none'} ({self.source})"
        return shown + "".join(f"; ignored {note}" for note in self.ignored)


def parse_region(value: str | None) -> str | None:
    """An ISO 3166 code that phone numbers use ("us" → "US"), or None for anything else."""
    code = (value or "").strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


# Regions whose example numbers carry no country name in the library.
_UNNAMED = {"AC": "Ascension Island", "EH": "Western Sahara", "TA": "Tristan da Cunha",
            "XK": "Kosovo"}


@functools.cache
def country_names() -> tuple[tuple[str, str], ...]:
    """(code, English name) of every region phone numbers use, ordered by name: the
    Settings page's choices. The name comes from an example number of the region (the
    library's public way to it); a region without one shows its code."""
    named = []
    for code in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(code)
        name = country_name_for_number(example, "en") if example is not None else ""
        named.append((code, name or _UNNAMED.get(code, code)))
    return tuple(sorted(named, key=lambda pair: (pair[1].casefold(), pair[0])))


class RegionResolver:
    """Resolves each tenant's default region; Booknetic's part of the answer is cached for
    a minute."""

    # Booknetic's setting changes rarely; a changed one is seen within this many seconds.
    CACHE_SECONDS = 60.0

    def __init__(self, booknetic: Booknetic, *, override: str | None,
                 tenant_setting: Callable[[int | None], str | None] | None = None) -> None:
        self.bk = booknetic
        self.override = parse_region(override)
        # The tenant's own `default_country` (SettingsService.default_country), if wired.
        self.tenant_setting = tenant_setting
        self._cache: dict[int | None, tuple[float, RegionChoice]] = {}
        self._lock = threading.Lock()

    def region(self, tenant_id: int | None) -> str | None:
        return self.choice(tenant_id).region

    def choice(self, tenant_id: int | None) -> RegionChoice:
        """The tenant's default region by the precedence in the module docstring."""
        own = parse_region(self.tenant_setting(tenant_id)) if self.tenant_setting else None
        if own is not None:
            return RegionChoice(own, TENANT_SETTING)
        return self.inherited(tenant_id)

    def inherited(self, tenant_id: int | None) -> RegionChoice:
        """The region a tenant gets when it sets none of its own (environment, then
        Booknetic's options): what the Settings page offers as "Booknetic's setting"."""
        if self.override is not None:
            return RegionChoice(self.override, f"environment {ENV_OVERRIDE}")
        with self._lock:
            cached = self._cache.get(tenant_id)
        if cached is not None and time.monotonic() - cached[0] < self.CACHE_SECONDS:
            return cached[1]
        choice = self._from_booknetic(tenant_id)
        with self._lock:
            self._cache[tenant_id] = (time.monotonic(), choice)
        return choice

    def _from_booknetic(self, tenant_id: int | None) -> RegionChoice:
        try:
            options = self.bk.phone_country_options(tenant_id)
        except BookneticError:
            return RegionChoice(None, "none: no WordPress options table")
        ignored: list[str] = []
        for name, value in options:
            region = parse_region(value)
            if region is not None:
                return RegionChoice(region, f"Booknetic option {name}", tuple(ignored))
            if value.strip():
                ignored.append(f"{name} = {value.strip()!r} (not a country code)")
        return RegionChoice(None, "none set: numbers need their country code",
                            tuple(ignored))
