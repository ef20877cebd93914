"""Structured logs: every record carries its context as key=value pairs.

`logger.warning("sms not sent", extra={"campaign_id": 7, "to": "+1…", "error_code": 21614,
"error": "…"})` prints
`2026-11-29T10:00:00Z WARNING sidecar.outbox sms not sent campaign_id=7 to=+1… error_code=…`
so "why did this message fail?" is one grep away. BKNTC_SMS_LOG_FORMAT=json prints one JSON
object per line instead, for log shippers.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message",
                                                                             "asctime"}


def _context(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and v is not None}


class KeyValueFormatter(logging.Formatter):
    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        parts = [stamp, record.levelname, record.name, record.getMessage()]
        for key, value in _context(record).items():
            text = str(value)
            parts.append(f"{key}={json.dumps(text) if (' ' in text or not text) else text}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": round(record.created, 3), "level": record.levelname,
                "logger": record.name, "msg": record.getMessage(), **_context(record)}
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def configure_logging(level: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    as_json = os.environ.get("BKNTC_SMS_LOG_FORMAT", "").lower() == "json"
    handler.setFormatter(JsonFormatter() if as_json else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("BKNTC_SMS_LOG_LEVEL", "INFO").upper())
    # Third-party chatter that would drown the sidecar's own lines.
    for noisy in ("twilio.http_client", "apscheduler.executors.default", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
