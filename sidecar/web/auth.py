"""The bridge signing protocol (DESIGN.md §6): who is asking, for which tenant, with what.

Every request carries `X-Bkntc-Identity` (base64url of compact JSON) and
`X-Bkntc-Signature` = hex HMAC-SHA256(secret, METHOD \\n PATH_WITH_QUERY \\n identity \\n
hex(SHA256(body))). The identity — user, tenant, capabilities — is taken from nowhere else.
A missing or bad signature, a timestamp more than 300 s off, or a nonce already seen in the
last 600 s (kept in the database, so every sidecar process shares it) is refused with 401.

`sign()` is the reference implementation of the bridge's side; the PHP bridge, the local
relay (demo, browser tests) and the tests all produce exactly these headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from ..errors import Forbidden, Unauthorized
from ..schema import ID_MAX, SmsTables
from .inputs import SURROGATE

CLOCK_WINDOW = 300
NONCE_WINDOW = 600

CAPABILITIES = (
    "sms_campaigns",
    "sms_campaigns_create",
    "sms_campaigns_send",
    "sms_campaigns_delete",
    "sms_campaign_templates",
    "sms_campaign_logs",
    "sms_campaign_suppressions",
    "cron",
    "twilio_webhook",
)
# Capabilities of the bridge's server-to-server calls (the cron tick, Twilio's webhooks),
# never of a WordPress user.
SERVER_CAPABILITIES = ("cron", "twilio_webhook")
CAPABILITY_LABELS = {
    "sms_campaigns": "view SMS campaigns",
    "sms_campaigns_create": "create and edit campaigns",
    "sms_campaigns_send": "send SMS",
    "sms_campaigns_delete": "delete campaigns",
    "sms_campaign_templates": "manage templates",
    "sms_campaign_logs": "see message logs",
    "sms_campaign_suppressions": "manage the suppression list",
    "cron": "run the queue",
    "twilio_webhook": "relay Twilio's webhooks",
}

_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")


class AuthError(Unauthorized):
    """The request is not authentically from the bridge (→ 401)."""


class CsrfFailed(Forbidden):
    """A write without our page's per-user token (→ 403)."""

    code = "csrf_failed"


@dataclass(frozen=True)
class Identity:
    user_id: int
    user_login: str
    display_name: str
    tenant_id: int | None
    caps: frozenset[str]
    ts: int
    nonce: str

    def can(self, capability: str) -> bool:
        return capability in self.caps

    def as_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "user_login": self.user_login,
                "display_name": self.display_name, "tenant_id": self.tenant_id,
                "caps": sorted(self.caps)}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise AuthError("identity header is not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signature(secret: str, method: str, path_with_query: str, identity_b64: str,
              body: bytes) -> str:
    message = "\n".join([method.upper(), path_with_query, identity_b64,
                         hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign(secret: str, method: str, path_with_query: str, body: bytes, *, user_id: int,
         user_login: str, display_name: str, tenant_id: int | None, caps: list[str],
         ts: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The two headers the bridge sends for one request."""
    identity = {"user_id": user_id, "user_login": user_login, "display_name": display_name,
                "tenant_id": tenant_id, "caps": list(caps),
                "ts": int(time.time()) if ts is None else ts,
                "nonce": nonce or secrets.token_hex(16)}
    encoded = b64url(json.dumps(identity, separators=(",", ":")).encode())
    return {"X-Bkntc-Identity": encoded,
            "X-Bkntc-Signature": signature(secret, method, path_with_query, encoded, body)}


class NonceStore:
    """Nonces seen in the last 600 s, in the shared database (insert = claim)."""

    def __init__(self, engine: Engine, tables: SmsTables) -> None:
        self.engine, self.table = engine, tables.nonces

    def claim(self, nonce: str, now: int) -> bool:
        """True the first time a nonce is seen; False for a replay."""
        t = self.table
        try:
            with self.engine.begin() as conn:
                conn.execute(t.insert().values(nonce=nonce, seen_at=now))
            return True
        except IntegrityError:
            # Seen before — but an entry older than the window may be reclaimed.
            with self.engine.begin() as conn:
                taken = conn.execute(
                    t.update().where(t.c.nonce == nonce, t.c.seen_at < now - NONCE_WINDOW)
                    .values(seen_at=now)).rowcount
            return taken == 1


class SecretSource:
    """The shared secret: BKNTC_SMS_BRIDGE_SECRET, else the WordPress option (cached 30 s
    so a regenerated secret is picked up without a restart)."""

    def __init__(self, fixed: str | None, read_option: Callable[[], str | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fixed, self.read_option, self.clock = fixed, read_option, clock
        self._cached: tuple[float, str | None] | None = None
        self._lock = threading.Lock()

    def get(self) -> str | None:
        if self.fixed:
            return self.fixed
        with self._lock:
            if self._cached is None or self.clock() - self._cached[0] > 30:
                self._cached = (self.clock(), (self.read_option() or "").strip() or None)
            return self._cached[1]


def verify(headers: Mapping[str, str], method: str, path_with_query: str, body: bytes, *,
           secret: str | None, nonces: NonceStore, now: int) -> Identity:
    """Return the verified identity or raise AuthError saying what was wrong."""
    if not secret:
        raise AuthError("the bridge secret is not configured: activate the bridge plugin "
                        "or set BKNTC_SMS_BRIDGE_SECRET")
    encoded = headers.get("X-Bkntc-Identity")
    given = headers.get("X-Bkntc-Signature")
    if not encoded or not given:
        raise AuthError("missing X-Bkntc-Identity / X-Bkntc-Signature")
    expected = signature(secret, method, path_with_query, encoded, body)
    if not hmac.compare_digest(expected, given.strip().lower()):
        raise AuthError("bad signature")
    try:
        data = json.loads(_b64url_decode(encoded))
    except (ValueError, AuthError) as exc:
        raise AuthError("identity is not valid JSON") from exc
    identity = _parse_identity(data)
    if abs(now - identity.ts) > CLOCK_WINDOW:
        raise AuthError(f"request timestamp is {now - identity.ts:+d} s off "
                        f"(allowed ±{CLOCK_WINDOW} s): check both servers' clocks")
    if not nonces.claim(identity.nonce, now):
        raise AuthError("replayed request (nonce already used)")
    return identity


def _parse_identity(data: Any) -> Identity:
    if not isinstance(data, dict):
        raise AuthError("identity must be a JSON object")

    def field(name: str, kind: type | tuple[type, ...]) -> Any:
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise AuthError(f"identity field {name!r} is missing or has the wrong type")
        if isinstance(value, str) and SURROGATE.search(value):
            raise AuthError(f"identity field {name!r} is not valid text")
        return value

    tenant = data.get("tenant_id")
    if tenant is not None and (not isinstance(tenant, int) or isinstance(tenant, bool)
                               or not 1 <= tenant <= ID_MAX):
        raise AuthError("identity field 'tenant_id' must be a positive integer or null")
    user_id = field("user_id", int)
    if not 0 <= user_id <= ID_MAX:  # it is stored as created_by, an INT column
        raise AuthError(f"identity field 'user_id' must be from 0 to {ID_MAX}")
    caps = field("caps", list)
    if not all(isinstance(c, str) for c in caps):
        raise AuthError("identity field 'caps' must be a list of strings")
    nonce = field("nonce", str)
    if not _NONCE_RE.fullmatch(nonce):
        raise AuthError("identity nonce must be 8-64 characters [A-Za-z0-9_-]")
    return Identity(
        user_id=user_id, user_login=field("user_login", str),
        display_name=field("display_name", str), tenant_id=tenant,
        caps=frozenset(c for c in caps if c in CAPABILITIES), ts=field("ts", int), nonce=nonce)


def csrf_token(secret: str, identity: Identity) -> str:
    """A per-user token the pages echo on every state change (X-Bkntc-Csrf).

    Defence in depth behind the bridge's WordPress nonce: a cross-site request that rides
    on a logged-in admin's cookies cannot know it.
    """
    message = f"csrf\n{identity.user_id}\n{identity.tenant_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]
