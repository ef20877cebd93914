"""Status callbacks, signed exactly as Twilio signs them (tech-notes §1.6; signing.py),
posted one at a time in order by a dispatcher thread, so a test can wait until they are all
done."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from .signing import post_signed_form
from .wire import API_VERSION, SERVICE_SENDER, ReceivedMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackAttempt:
    sid: str
    url: str
    status: str
    http_status: int | None  # None: no HTTP answer (refused, timed out)


def post_status_callback(message: ReceivedMessage, auth_token: str,
                         timeout: float) -> int | None:
    """POST a signed status callback as Twilio would, with the message's status and error
    code; the HTTP status, or None when no answer came (refused, timed out)."""
    assert message.status_callback is not None
    params = {
        "AccountSid": message.account_sid,
        "ApiVersion": API_VERSION,
        "From": message.from_ or SERVICE_SENDER,
        "To": message.to,
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "MessageStatus": message.status,
        "SmsStatus": message.status,
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code is not None:
        params["ErrorCode"] = str(message.error_code)
    return post_signed_form(message.status_callback, params, auth_token,
                            timeout=timeout).status


class CallbackDispatcher:
    """Posts status callbacks on one thread, in the order they were queued (a callback is
    a snapshot of the message with the status to report)."""

    def __init__(self, auth_token: str, record: Callable[[CallbackAttempt], None],
                 timeout: float = 10.0) -> None:
        self.auth_token, self.record, self.timeout = auth_token, record, timeout
        self._queue: deque[ReceivedMessage] = deque()
        self._cond = threading.Condition()
        self._busy = self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fake-twilio-callbacks",
                                        daemon=True)
        self._thread.start()

    def put(self, message: ReceivedMessage, status: str, error_code: int | None) -> None:
        with self._cond:
            self._queue.append(replace(message, status=status, error_code=error_code,
                                       plan=None))
            self._cond.notify_all()

    def wait_done(self, timeout: float | None = None) -> bool:
        """Wait until every queued callback has been posted (and answered or given up)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._busy

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    self._busy = False
                    self._cond.notify_all()
                    return
                message = self._queue.popleft()
                self._busy = True
            try:
                http_status = post_status_callback(message, self.auth_token, self.timeout)
                self.record(CallbackAttempt(message.sid, message.status_callback or "",
                                            message.status, http_status))
            except Exception:  # the dispatcher must outlive any one callback
                logger.exception("status callback failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
