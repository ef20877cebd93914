"""Message templates: the read-only built-ins (seeded by schema.py, shared by every tenant)
and each tenant's own, unlimited in number."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, delete, or_, select, update

from .campaigns import body_error
from .errors import Conflict, Invalid, NotFound
from .schema import SmsTables
from .segments import tenant_key

NAME_MAX = 191


class TemplateInvalid(Invalid):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors, message="; ".join(errors.values()))


class TemplateNotFound(NotFound):
    pass


class TemplateReadOnly(Conflict, PermissionError):
    """Built-in templates cannot be changed."""

    code = "read_only"


def validate_template(data: Mapping[str, Any]) -> tuple[str, str]:
    errors: dict[str, str] = {}
    name = data.get("name")
    body = data.get("body")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "give the template a name"
    elif len(name.strip()) > NAME_MAX:
        errors["name"] = f"the name is longer than {NAME_MAX} characters"
    if problem := body_error(body):
        errors["body"] = problem
    if errors:
        raise TemplateInvalid(errors)
    assert isinstance(name, str) and isinstance(body, str)
    return name.strip(), body


class TemplateService:
    def __init__(self, engine: Engine, tables: SmsTables, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.tables, self.clock = engine, tables, clock

    def list(self, tenant_id: int | None) -> list[dict[str, Any]]:
        """Built-ins first, then the tenant's own, by name."""
        t = self.tables.templates
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t).where(self._visible(tenant_id))
                .order_by(t.c.builtin_key.is_(None), t.c.name, t.c.id)
            ).mappings().all()
        return [self._public(r) for r in rows]

    def get(self, tenant_id: int | None, template_id: int) -> dict[str, Any]:
        t = self.tables.templates
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.id == template_id, self._visible(tenant_id))
                               ).mappings().first()
        if row is None:
            raise TemplateNotFound(f"template {template_id} not found")
        return self._public(row)

    def create(self, tenant_id: int | None, data: Mapping[str, Any], *,
               user_id: int | None = None) -> dict[str, Any]:
        name, body = validate_template(data)
        now = int(self.clock())
        with self.engine.begin() as conn:
            result = conn.execute(self.tables.templates.insert().values(
                tenant_id=tenant_key(tenant_id), name=name, body=body, created_by=user_id,
                created_at=now, updated_at=now))
            new_id = int(result.inserted_primary_key[0])
        return self.get(tenant_id, new_id)

    def update(self, tenant_id: int | None, template_id: int,
               data: Mapping[str, Any]) -> dict[str, Any]:
        name, body = validate_template(data)
        self._own(tenant_id, template_id)
        t = self.tables.templates
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.id == template_id).values(
                name=name, body=body, updated_at=int(self.clock())))
        return self.get(tenant_id, template_id)

    def delete(self, tenant_id: int | None, template_id: int) -> None:
        self._own(tenant_id, template_id)
        t = self.tables.templates
        with self.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.id == template_id,
                                         t.c.tenant_id == tenant_key(tenant_id),
                                         t.c.builtin_key.is_(None)))

    def _own(self, tenant_id: int | None, template_id: int) -> None:
        """The template must be this tenant's own (built-ins are read-only)."""
        if self.get(tenant_id, template_id)["builtin"]:
            raise TemplateReadOnly("built-in templates cannot be changed or deleted; "
                                   "create your own template from it instead")

    def _visible(self, tenant_id: int | None) -> Any:
        t = self.tables.templates
        return or_(t.c.builtin_key.is_not(None), t.c.tenant_id == tenant_key(tenant_id))

    @staticmethod
    def _public(row: Any) -> dict[str, Any]:
        return {"id": int(row["id"]), "name": row["name"], "body": row["body"],
                "builtin": row["builtin_key"] is not None,
                "updated_at": int(row["updated_at"])}
