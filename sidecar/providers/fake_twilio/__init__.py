"""A fake Twilio REST server on loopback that the unpatched `twilio` library talks to.

Point a client at it with `client.api.base_url = fake.base_url` (tech-notes §1.1 option A).
It speaks the 2010-04-01 Messages wire format (§1.2-1.4): form-encoded creates with HTTP
Basic auth, 201 + the JSON `MessageInstance` reads, legacy error bodies, Twilio's magic test
numbers (§1.8) and list/fetch for reconciliation. Faults (latency, 429, HTML 500, timeouts and
"accepted but the answer was lost") come from a seeded RNG so runs repeat. Status callbacks are
signed exactly as Twilio signs them (§1.6).

Faults apply to message creates only; latency applies to every request. A fault wins over
validation: a 429/500/timeout answer is given whatever the form held. With `lost_answer=True`
a 500 or timeout on a create that would have succeeded still stores the message (tech-notes
§1.5: the outcome is unknown to the client, so it must reconcile by listing).

What becomes of an accepted message follows `DeliveryRules` (lifecycle.py), as on a live
account: queued, then sent (after `queued_for` seconds: the "queued mode", no date_sent
meanwhile), then delivered, undelivered or failed with an error code, decided per message
from a seed. Fetches and lists show that status at the fake's clock. With a StatusCallback,
signed callbacks go out for each status — sometimes out of order, twice or never, as the
rules say — when `flush_callbacks()` hands the due ones to the dispatcher thread (or by
themselves with `auto_callbacks=True`); `callbacks_done()` waits for them.
`send_status_callbacks()` sets a status by hand and posts at once; `auto_status` is the
older shorthand for "every message ends in this status, callbacks by themselves".
`hold(after=N)` answers N more requests and keeps the rest waiting until `release()`, so a
test can stop a send half-way on a condition instead of racing it with latency.

`send_inbound()` (and `python -m sidecar.providers.fake_twilio inbound --url … --from … --body
STOP`) posts a signed inbound SMS to a webhook, as Twilio does when a customer replies.

Run standalone: `python -m sidecar.providers.fake_twilio --port 8900 --account-sid AC... ...`
"""

from .callbacks import CallbackAttempt
from .faults import TIMEOUT
from .lifecycle import DeliveryRules
from .server import FakeTwilio, FakeTwilioStats, peak_in_window
from .signing import WebhookAnswer
from .wire import API_VERSION, MAGIC_FROM, MAGIC_TO, SERVICE_SENDER, ReceivedMessage

__all__ = ["API_VERSION", "MAGIC_FROM", "MAGIC_TO", "SERVICE_SENDER", "TIMEOUT",
           "CallbackAttempt", "DeliveryRules", "FakeTwilio", "FakeTwilioStats",
           "ReceivedMessage", "WebhookAnswer", "peak_in_window"]
