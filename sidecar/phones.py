"""E.164 normalisation of the free-text phone numbers Booknetic stores.

Booknetic never validates `customers.phone_number` (booknetic.md §5): it may be E.164, E.164
without the `+` (CSV imports, REST), national with spaces, empty, NULL or garbage. This module
is the single definition of "a valid phone" for the whole product.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# Anything that is not a digit or a leading plus: spaces, dots, dashes, brackets, "tel:".
_DIGITS_ONLY = re.compile(r"^\d{6,15}$")


class InvalidPhone(ValueError):
    """A phone number that cannot be turned into a valid E.164 number."""


@lru_cache(maxsize=65536)
def normalise_phone(raw: str | None, default_region: str | None = None) -> str | None:
    """Return the E.164 form of `raw`, or None when it is missing or not a valid number.

    Rules, in order:
    1. parse `raw` with the configured default region (national numbers need it);
    2. if that fails and `raw` is only digits (an international number whose `+` was lost,
       as Booknetic's REST and CSV paths produce), parse it again as "+digits".
    A number counts only if libphonenumber says it is *valid* (not merely possible), so
    fictional ranges and typos are caught before they cost a Twilio request.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    candidates = [(text, default_region)]
    digits = re.sub(r"[\s().\-]", "", text)
    if not text.startswith("+") and _DIGITS_ONLY.match(digits):
        candidates.append(("+" + digits, None))
    for candidate, region in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def require_phone(raw: str | None, default_region: str | None = None) -> str:
    """Like `normalise_phone`, but raise `InvalidPhone` with a message a user can act on."""
    phone = normalise_phone(raw, default_region)
    if phone is None:
        shown = (raw or "").strip()
        if not shown:
            raise InvalidPhone("The phone number is empty.")
        hint = "" if default_region or shown.startswith("+") else (
            " Write it in international form, starting with + and the country code."
        )
        raise InvalidPhone(f"{shown!r} is not a valid phone number.{hint}")
    return phone
