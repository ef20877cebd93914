"""Halts: a Twilio auth/config error stops ALL sending, with a reason an admin can act
on, until the credentials in Booknetic change (or someone clears it)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, delete, select

from ..booknetic import Booknetic
from ..campaigns import transition
from ..db import upsert
from ..providers.base import SendResult
from ..schema import SmsTables

logger = logging.getLogger(__name__)

HALT_KEY = "provider_halt"


class Halts:
    """The halt record in our meta table."""

    def __init__(self, engine: Engine, tables: SmsTables, booknetic: Booknetic,
                 clock: Callable[[], float]) -> None:
        self.engine, self.tables, self.bk, self.clock = engine, tables, booknetic, clock

    def state(self) -> dict[str, Any] | None:
        """The configuration error that stopped all sending, if one is in force."""
        meta = self.tables.meta
        with self.engine.connect() as conn:
            raw = conn.execute(select(meta.c.value).where(meta.c.name == HALT_KEY)).scalar()
        if not raw:
            return None
        state = json.loads(raw)
        # A halt is about specific credentials: once an admin changes them, try again.
        if state.get("fingerprint") != self._fingerprint():
            self.clear()
            return None
        return dict(state)

    def clear(self) -> None:
        meta = self.tables.meta
        with self.engine.begin() as conn:
            conn.execute(delete(meta).where(meta.c.name == HALT_KEY))

    def _fingerprint(self) -> str:
        status = self.bk.twilio_status()
        return hashlib.sha256(
            f"{status.account_sid}\0{status.auth_token}\0{status.sender}".encode()
        ).hexdigest()[:16]

    def record(self, campaign_id: int, result: SendResult) -> None:
        """Halt all sending for `result` (an auth/config error) and pause the campaign."""
        now = int(self.clock())
        reason = (f"Sending stopped: {result.error}. Fix the Twilio settings in Booknetic "
                  "(Settings → Integrations → SMS Twilio), then resume the campaign.")
        state = {"reason": reason, "code": result.error_code, "at": now,
                 "fingerprint": self._fingerprint(), "campaign_id": campaign_id}
        c = self.tables.campaigns
        with self.engine.begin() as conn:
            upsert(conn, self.tables.meta,
                   [{"name": HALT_KEY, "value": json.dumps(state), "updated_at": now}],
                   key=["name"], update=["value", "updated_at"])
            transition(conn, c, "halt", c.c.id == campaign_id, now=now,
                       values={"status_reason": reason[:500]})
        logger.error("sending halted", extra={"campaign_id": campaign_id,
                                              "error_code": result.error_code,
                                              "error": result.error})
