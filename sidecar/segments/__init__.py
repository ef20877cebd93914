"""Audience segments (DESIGN.md §3): definitions, filters, and their SQL.

- definitions.py — the 11 segments, the filters, validation of untrusted filter input;
- phone_table.py — our normalised-phone table, kept in step with Booknetic incrementally;
- service.py     — each segment with its filters as ONE SQL statement, snapshots, previews;
- preview.py     — what a preview answers and the statements that answer it;
- phone_upkeep.py — the worker's phone checks, which keep previews off the check.
"""

from .definitions import (
    DAY,
    SEGMENTS,
    SegmentDef,
    SegmentError,
    SegmentQuery,
    region_key,
    tenant_key,
)
from .phone_table import PhoneTable
from .preview import Preview
from .service import SegmentService

__all__ = ["DAY", "SEGMENTS", "PhoneTable", "Preview", "SegmentDef", "SegmentError",
           "SegmentQuery", "SegmentService", "region_key", "tenant_key"]
