"""Booknetic SMS Campaigns: the Python sidecar.

Layout: `cli` (the bkntc-sms command) → services (`segments`, campaigns, outbox) → data
(`booknetic` reads WordPress/Booknetic, `schema` owns bkntc_sms_*, `db`).
"""

__version__ = "0.2.0"
