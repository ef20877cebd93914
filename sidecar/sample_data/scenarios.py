"""The customers every data set contains (one per segment boundary, bad and duplicate
phones, names with and without last names…) and the vocabulary of the random filler."""

from __future__ import annotations

from typing import Any

DAY = 86400

# A scenario customer: (key, phone, name, visits).
#   phone: a style of a fresh unique number ("e164", "noplus", "spaced", "dashed", "national",
#          "spaces_noplus"), ("group", name, style) for a number shared inside the tenant,
#          ("shared", style) for the one number shared across tenants, or ("raw", text).
#   name:  "full" | "no_last" | "nameless" | "null_last" | "emoji"
#   visits: (offset from now in seconds, status); "R" marks a recurring set, "C" a cart.
Visit = tuple[int, str]
SCENARIOS: list[tuple[str, Any, str, list[Visit] | tuple[str, list[Visit]]]] = [
    # segment boundaries: each customer's only appointment sits on one edge
    ("at_now", "e164", "full", [(0, "approved")]),
    ("just_future", "e164", "full", [(1, "pending")]),
    ("b7_in", "e164", "full", [(-7 * DAY, "approved")]),
    ("b7_out", "e164", "full", [(-7 * DAY - 1, "approved")]),
    ("b30_in", "e164", "no_last", [(-30 * DAY, "approved")]),
    ("b30_out", "e164", "full", [(-30 * DAY - 1, "pending")]),
    ("b90_in", "e164", "full", [(-90 * DAY, "approved")]),
    ("b90_out", "e164", "full", [(-90 * DAY - 1, "approved")]),
    ("i90_out", "e164", "full", [(-90 * DAY + 1, "approved")]),
    ("i180_in", "e164", "full", [(-180 * DAY, "approved")]),
    ("i180_out", "e164", "full", [(-180 * DAY + 1, "no_show")]),
    ("u7_in", "e164", "full", [(7 * DAY, "approved")]),
    ("u7_out", "e164", "full", [(7 * DAY + 1, "approved")]),
    ("u30_in", "e164", "full", [(30 * DAY, "pending")]),
    ("u30_out", "e164", "full", [(30 * DAY + 1, "pending")]),
    ("canceled_in", "e164", "full", [(-30 * DAY, "canceled")]),
    ("rejected_out", "e164", "full", [(-30 * DAY - 1, "rejected")]),
    ("canceled_only", "e164", "full", [(-3 * DAY, "canceled"), (4 * DAY, "rejected")]),
    ("future_cancel_old_active", "e164", "full", [(5 * DAY, "canceled"), (-100 * DAY, "approved")]),
    # appointment counts 1, 2, 3, 5 and statuses
    ("two_active", "e164", "full", [(-3 * DAY, "approved"), (-50 * DAY, "approved")]),
    ("three_active", "e164", "emoji",
     [(-10 * DAY, "approved"), (-20 * DAY, "pending"), (-200 * DAY, "approved")]),
    ("five_recurring", "e164", "full",
     ("R", [(d * DAY - 3 * 3600, "approved") for d in (-20, -13, -6, 1, 8)])),
    ("repeat_with_cancels", "e164", "full",
     [(-40 * DAY, "approved"), (-60 * DAY, "approved"), (-45 * DAY, "canceled"),
      (-80 * DAY, "rejected")]),
    ("no_show_recent", "e164", "no_last", [(-5 * DAY, "no_show")]),
    ("waiting_payment", "e164", "full", [(3 * DAY, "waiting_payment")]),
    ("cart_weighted", "e164", "full",
     ("C", [(-15 * DAY, "approved"), (-15 * DAY + 3600, "approved")])),
    ("past_and_future", "e164", "full", [(-200 * DAY, "approved"), (10 * DAY, "approved")]),
    ("ancient", "e164", "full", [(-400 * DAY, "approved")]),
    ("never_booked_1", "e164", "full", []),
    ("never_booked_2", "spaced", "nameless", []),
    # phones: duplicates (lowest id not always a member), formats, invalid, magic numbers
    ("dup_old_low_id", ("group", "A", "e164"), "full", [(-120 * DAY, "approved")]),
    ("dup_recent", ("group", "A", "spaces_noplus"), "full",
     [(-4 * DAY, "approved"), (-40 * DAY, "approved"), (-70 * DAY, "pending")]),
    ("dup_third", ("group", "A", "dashed"), "full", [(-2 * DAY, "approved")]),
    ("natdup_e164", ("group", "B", "e164"), "full", [(-6 * DAY, "approved")]),
    ("natdup_national", ("group", "B", "national"), "full",
     [(-8 * DAY, "approved"), (-9 * DAY, "approved")]),
    ("no_plus", "noplus", "full", [(-1 * DAY, "approved")]),
    ("spaced", "spaced", "null_last", [(-12 * DAY, "approved"), (20 * DAY, "pending")]),
    ("national", "national", "full", [(-2 * DAY, "pending")]),
    ("empty_phone", ("raw", ""), "full",
     [(-1 * DAY, "approved"), (-100 * DAY, "approved"), (-150 * DAY, "approved")]),
    ("null_phone", ("raw", None), "nameless", [(-6 * DAY, "approved")]),
    ("garbage_na", ("raw", "n/a"), "full", [(2 * DAY, "approved")]),
    ("garbage_short", ("raw", "123"), "full", [(-95 * DAY, "approved")]),
    ("magic_cannot_receive", ("raw", "+15005550009"), "full", [(-20 * DAY, "approved")]),
    ("magic_invalid", ("raw", "+15005550001"), "full", [(-25 * DAY, "approved")]),
    ("shared_cross_tenant", ("shared", "e164"), "full", [(-3 * DAY, "approved")]),
]
SCENARIO_KEYS = [s[0] for s in SCENARIOS]
# The super-admin (NULL tenant) customers of a SaaS data set: one or more in every segment,
# so any leak into a tenant's audience changes that tenant's numbers.
SUPER_ADMIN_SCENARIOS = [
    "at_now", "u7_in", "three_active", "ancient", "canceled_in", "two_active",
    "never_booked_1", "shared_cross_tenant", "dup_old_low_id", "dup_recent",
]
SHARED_STYLES = ["e164", "noplus", "spaced", "dashed"]

FIRST_NAMES = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella",
          "Lucas", "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Zoë", "José", "Łukasz",
          "Aisha", "Chen", "Fatima", "Oliver", "Nora", "Hiro", "Ingrid", "Priya", "Omar",
          "Sofía", "Yusuf", "Grace"]
LAST_NAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
         "Rodriguez", "Martinez", "Hernández", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor",
         "Moore", "Jackson", "Martin", "Lee", "Nguyễn", "O'Brien", "Kowalski", "Müller",
         "Rossi", "Kim", "Patel", "Haddad", "Sato", "Ivanova"]
BUSINESSES: list[tuple[str, list[tuple[str, int, str]], list[str]]] = [
    # (kind, [(service, minutes, price)], [location])
    ("salon", [("Haircut", 45, "35.00"), ("Colouring", 90, "80.00"), ("Beard trim", 30, "20.00")],
     ["Downtown", "Riverside"]),
    ("clinic", [("Consultation", 30, "60.00"), ("Physiotherapy", 60, "75.00"),
                ("Check-up", 45, "50.00")], ["Main clinic", "North branch"]),
    ("studio", [("Yoga class", 60, "15.00"), ("Pilates", 45, "18.00"),
                ("Private session", 60, "55.00")], ["Studio A", "Park studio"]),
    ("spa", [("Massage", 60, "70.00"), ("Facial", 45, "55.00"), ("Manicure", 30, "25.00")],
     ["Spa east", "Spa west"]),
]
STATUS_WEIGHTS = [("approved", 55), ("pending", 15), ("canceled", 12), ("rejected", 5),
                   ("no_show", 8), ("waiting_payment", 5)]
FILLER_PHONE_STYLES = [("e164", 72), ("noplus", 6), ("spaced", 6), ("national", 4),
                        ("dup", 4), ("empty", 3), ("null", 3), ("garbage", 2)]
GARBAGE_PHONES = ["n/a", "123", "call me", "+1 555", "0000000", "555-0147"]
TIMEZONES = ["America/New_York", "Europe/London", "Europe/Berlin", "Asia/Dubai", "UTC"]
# What else appointments.client_timezone holds in the wild (the booking panel stores what
# the browser reported, older rows what older versions did): more IANA names, links (valid),
# and values that are no zone — empty, NULL, an offset, a made-up name (DESIGN.md §11: the
# invalid ones fall back to the business zone). About one appointment in three gets one.
MESSY_TIMEZONES = ["America/Chicago", "America/Los_Angeles", "Australia/Sydney",
                   "Asia/Kolkata", "US/Eastern", "Asia/Calcutta", "", None, "+05:00",
                   "GMT+2", "Mars/Olympus", "Europe/Londres"]
MESSY_TIMEZONE_SHARE = 0.35
