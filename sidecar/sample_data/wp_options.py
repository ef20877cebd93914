"""The WordPress options a Booknetic install has: plugins, versions, per-tenant settings,
and the Twilio add-on's credentials in each of its states."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping

from .scenarios import TIMEZONES

TWILIO_MODES = ("configured", "inactive", "unconfigured", "absent")

CORE_PLUGIN = "booknetic/init.php"
SAAS_PLUGIN = "booknetic-saas/init.php"
TWILIO_PLUGIN = "booknetic-workflow-twilio-sms/init.php"
TWILIO_VERSION_OPTION = "bkntc_addon_booknetic-workflow-twilio-sms_version"
TWILIO_SENDER = "+15005550006"  # Twilio's magic "valid From" test number


def php_serialize_list(items: list[str]) -> str:
    """PHP's serialize() of a list of strings; `s:N` counts UTF-8 bytes, as PHP does."""
    body = "".join(
        f'i:{i};s:{len(item.encode("utf-8"))}:"{item}";' for i, item in enumerate(items)
    )
    return f"a:{len(items)}:{{{body}}}"


def md5_hex(*parts: object) -> str:
    return hashlib.md5("-".join(map(str, parts)).encode()).hexdigest()


def phone_country_options(countries: Mapping[int | None, str]) -> dict[str, str]:
    """Booknetic's "Default phone country code" as its settings page saves it
    (`Helper::setOption('default_phone_country_code', …)`): the intl-tel-input country's
    lower-case ISO code ("us"), or "" when none is picked; `bkntc_t{ID}_…` per SaaS tenant,
    `bkntc_…` for the site (key None)."""
    return {("bkntc_default_phone_country_code" if tid is None
             else f"bkntc_t{tid}_default_phone_country_code"): value
            for tid, value in countries.items()}


def wordpress_options(kind: str, twilio: str, rng: random.Random, tenants: list[int],
                      phone_countries: Mapping[int | None, str]) -> dict[str, str]:
    plugins = [CORE_PLUGIN]
    if kind == "saas":
        plugins.append(SAAS_PLUGIN)
    if twilio in ("configured", "unconfigured"):
        plugins.append(TWILIO_PLUGIN)
    options = {
        "siteurl": "http://booknetic.test",
        "home": "http://booknetic.test",
        "blogname": "Booknetic Test Site",
        "timezone_string": "UTC",
        "gmt_offset": "0",
        "active_plugins": php_serialize_list(plugins),
        "bkntc_plugin_version": "5.2.2" if kind == "saas" else "4.4.1",
        "bkntc_purchase_code": md5_hex("purchase", rng.random()),
        "bkntc_default_appointment_status": "pending",
    }
    options.update(phone_country_options(phone_countries))
    if kind == "saas":
        options["bkntc_saas_plugin_version"] = "3.10.0"
        for tid in tenants:
            options[f"bkntc_t{tid}_timezone"] = TIMEZONES[tid % len(TIMEZONES)]
            options[f"bkntc_t{tid}_default_appointment_status"] = "approved"
    if twilio != "absent":
        options[TWILIO_VERSION_OPTION] = "1.1.0"
        options["bkntc_sms_account_sid"] = f"AC{rng.getrandbits(128):032x}"
        options["bkntc_sms_auth_token"] = (
            "" if twilio == "unconfigured" else f"{rng.getrandbits(128):032x}"
        )
        options["bkntc_sender_phone_number"] = TWILIO_SENDER
    return options
