"""Which country a phone number written without a country code belongs to, per tenant.

Booknetic keeps that choice itself: "Default phone country code" under Settings → Booking
panel steps → Information, stored by `Helper::setOption('default_phone_country_code', …)`
as intl-tel-input's lower-case ISO 3166 code ("us"), or "" when no country is picked.
In SaaS the option is per tenant (`bkntc_t{ID}_…`). Every part of the sidecar that parses
a number — segments and their phone table, suppressions, test and one-off SMS, the CLI,
the customer search — asks this one resolver, so they all agree for a tenant.

Precedence, first that gives a country wins:
  1. the tenant's own sidecar setting (DESIGN.md §11 `default_country`; not built yet —
     it goes in `RegionResolver.choice`, above the environment);
  2. the operator's override, BKNTC_SMS_DEFAULT_COUNTRY;
  3. Booknetic's option for the tenant, `bkntc_t{ID}_default_phone_country_code` (SaaS);
  4. Booknetic's global option, `bkntc_default_phone_country_code`;
  5. none: only numbers written with their country code are valid.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import phonenumbers

from .booknetic import Booknetic, BookneticError

ENV_OVERRIDE = "BKNTC_SMS_DEFAULT_COUNTRY"


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


class RegionResolver:
    """Resolves each tenant's default region, caching the answer for a minute."""

    # Booknetic's setting changes rarely; a changed one is seen within this many seconds.
    CACHE_SECONDS = 60.0

    def __init__(self, booknetic: Booknetic, *, override: str | None) -> None:
        self.bk = booknetic
        self.override = parse_region(override)
        self._cache: dict[int | None, tuple[float, RegionChoice]] = {}
        self._lock = threading.Lock()

    def region(self, tenant_id: int | None) -> str | None:
        return self.choice(tenant_id).region

    def choice(self, tenant_id: int | None) -> RegionChoice:
        """The tenant's default region by the precedence in the module docstring."""
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
