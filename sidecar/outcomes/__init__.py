"""Outcomes of campaigns (DESIGN.md §12): attributed bookings and revenue (attribution.py),
the holdout group and its lift (holdout.py), and the campaign report (report.py)."""

from .attribution import Attribution, RefreshReport, cents_to_amount

__all__ = ["Attribution", "RefreshReport", "cents_to_amount"]
