"""GET /metrics: this process's Prometheus metrics (sidecar/metrics.py).

Unsigned, like /healthz, because Prometheus cannot sign bridge requests; so it answers only
requests made on this machine (the peer address is loopback) that did not come through the
bridge's relay (which would carry the bridge's identity headers), and it shows no tenant's
data: counts and timings of the whole installation only.
"""

from __future__ import annotations

import ipaddress

from flask import Blueprint, Response, request

from ..errors import Forbidden
from ..metrics import CONTENT_TYPE
from .api import rt

blueprint = Blueprint("metrics", __name__)

RELAYED = ("X-Bkntc-Identity", "X-Bkntc-Signature")


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@blueprint.get("/metrics")
def metrics() -> Response:
    if not _loopback(request.remote_addr) or any(h in request.headers for h in RELAYED):
        raise Forbidden("/metrics answers scrapes from this machine only (not through the "
                        "bridge): point Prometheus at 127.0.0.1.")
    return Response(rt().outbox.metrics.exposition(), mimetype=None,
                    content_type=CONTENT_TYPE)
