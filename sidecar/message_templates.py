"""Message templates: the read-only built-ins (seeded by schema.py) and each tenant's own."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, or_, select

from .schema import SmsTables
from .segments import tenant_key


class TemplateService:
    def __init__(self, engine: Engine, tables: SmsTables, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.tables, self.clock = engine, tables, clock

    def list(self, tenant_id: int | None) -> list[dict[str, Any]]:
        """Built-ins first, then the tenant's own, by name."""
        t = self.tables.templates
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t).where(or_(t.c.builtin_key.is_not(None),
                                    t.c.tenant_id == tenant_key(tenant_id)))
                .order_by(t.c.builtin_key.is_(None), t.c.name, t.c.id)
            ).mappings().all()
        return [self._public(r) for r in rows]

    @staticmethod
    def _public(row: Any) -> dict[str, Any]:
        return {"id": int(row["id"]), "name": row["name"], "body": row["body"],
                "builtin": row["builtin_key"] is not None,
                "updated_at": int(row["updated_at"])}
