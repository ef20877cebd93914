"""`bkntc-sms settings show|set`: a tenant's settings (DESIGN.md §7, §11) from a shell.

`show --json` prints the bare settings object (every key, off = null), as the API answers
it; `set KEY VALUE` takes VALUE as JSON (`'{"start":"08:30","end":"21:00"}'`, `null`, `7`),
or as plain text when it is not JSON (`GB`). A bad value exits 2 naming the field.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ..tenant_settings import KEYS, TenantSettings
from . import print_json, runtime

if TYPE_CHECKING:
    from ..runtime import Runtime


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_value(raw: str) -> Any:
    """VALUE as JSON; text that is no JSON (GB, 0.0079abc) is taken as a string, which
    the setting then accepts or refuses by its own rules."""
    try:
        return json.loads(raw, parse_constant=_json_constant)
    except ValueError:
        return raw


def describe(rt: Runtime, tenant_id: int | None, current: TenantSettings) -> list[str]:
    """The settings in words, one line each, saying which are defaults."""
    values = current.to_json()
    quiet, cap, country = values["quiet_hours"], values["frequency_cap"], \
        values["default_country"]
    inherited = rt.regions.inherited(tenant_id)
    shown = {
        "quiet_hours": f"{quiet['start']} to {quiet['end']} in each customer's timezone"
                       if quiet else "off",
        "frequency_cap": f"at most {cap['max']} in {cap['days']} days" if cap else "off",
        "attribution_days": f"{values['attribution_days']} days",
        "holdout_percent": f"{values['holdout_percent']}% of each new campaign",
        "price_per_segment": "not set (no cost estimate)" if current.price_per_segment is None
                             else f"{format(current.price_per_segment, 'f')} per segment",
        "default_country": country or f"not set: {inherited.region or 'none'} "
                                      f"({inherited.source})",
    }
    lines = [f"{key:<18} {shown[key]}{'' if key in current.chosen else '  (default)'}"
             for key in KEYS]
    lines.append(f"{'timezone':<18} {rt.booknetic.business_zone(tenant_id).describe()}")
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    rt = runtime()
    rt.booknetic.require_tenant(args.tenant)
    current = rt.tenant_settings.for_tenant(args.tenant)
    if args.json:
        print_json(current.to_json())
    else:
        print("\n".join(describe(rt, args.tenant, current)))
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    rt = runtime()
    rt.booknetic.require_tenant(args.tenant)
    changed = rt.tenant_settings.update(args.tenant, {args.key: parse_value(args.value)})
    if args.json:
        print_json(changed.to_json())
    else:
        print("\n".join(describe(rt, args.tenant, changed)))
    return 0


def register(sub: Any) -> None:
    settings = sub.add_parser("settings", help="a tenant's settings (quiet hours, cap, …)")
    actions = settings.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    p = actions.add_parser("show", help="print every setting")
    p.add_argument("--tenant", type=int, default=None, metavar="ID",
                   help="SaaS tenant id (leave out on a single-site install)")
    p.add_argument("--json", action="store_true", help="the bare settings object")
    p.set_defaults(handler=cmd_show)
    p = actions.add_parser(
        "set", help="change one setting",
        description=f"Change one setting: KEY is one of {', '.join(KEYS)}; VALUE is JSON "
                    "(null turns quiet_hours or frequency_cap off).")
    p.add_argument("key", metavar="KEY")
    p.add_argument("value", metavar="VALUE")
    p.add_argument("--tenant", type=int, default=None, metavar="ID",
                   help="SaaS tenant id (leave out on a single-site install)")
    p.add_argument("--json", action="store_true", help="print the whole object after")
    p.set_defaults(handler=cmd_set)
