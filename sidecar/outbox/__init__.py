"""The send queue: claim, send, record, retry, finish (DESIGN.md §5).

Protocol for one recipient row (table `bkntc_sms_recipients`):

1. **Claim.** In a short transaction a batch of due rows (`status='pending'`,
   `next_attempt_at <= now`, no live lease) is taken with `FOR UPDATE SKIP LOCKED`
   (MySQL/MariaDB) or one `UPDATE … WHERE id IN (SELECT … LIMIT n)` (SQLite, which
   serialises writers), and stamped with our claim token, `lease_until = now + LEASE`,
   `attempts + 1`, and `unsure_since = COALESCE(unsure_since, now)`. Two processes can
   never hold the same row: the second one's claim skips it or sees the lease.
2. **Send** outside any transaction. Before each message the worker checks it can still
   finish inside its lease, and that the campaign was not paused (gate.py: at most
   SEND_CONCURRENCY messages per process go out after a pause returns); if not, the rest
   of the batch is released untouched, so a row is never sent by a process whose lease
   may have run out.
3. **Record** in one transaction per batch: bulk UPDATEs guarded by `claimed_by = token`,
   and the campaign's counters moved by exactly the rows changed. Counters therefore always
   equal what the rows say, and progress reads one campaign row. A batch is recorded even
   when sending broke off, and while the database is unreachable the results wait in memory
   and are retried until it answers (retry.py): a live process never leaves its own
   claims to the lease.
4. **Delivery** (DESIGN.md §10). Recording a row as sent starts its delivery status at
   `queued` and schedules the poller's first check (`delivery_check_at`, 10 minutes on).
   After that the status only moves forward — queued < sent < delivered | undelivered |
   failed, the three final ones never change — whether it comes from a status callback or
   the poller: one transaction locks the rows of those message ids, updates them guarded by
   "lower rank than the new status", and moves the campaign's `delivered`/`undelivered`
   counters and the daily statistics (on the message's sent day) by exactly the rows
   changed; a final status ends the poller's schedule. A callback can come before its
   batch is recorded (the message id reaches the row only in step 3): it waits in
   `early_statuses`, and step 3's transaction applies it (delivery_rows.py, poller.py).

Crash safety: a process killed between 1 and 3 leaves rows with a lease that expires, so
they become claimable again, and `unsure_since` tells the next claimer the outcome is
unknown: it asks the provider whether a message with that body already went to that number
since then (`find_sent`: by number alone, newest first, comparing the creation time and the
body, so a message the provider still holds queued counts) before sending. The only
duplicate left is a provider that accepted the message but does not list it yet when we
ask — see the note on issue 3.

Modules: queue.py (Outbox: kicks, runs, drains, pacing), runner.py (the one background
thread that runs kicked work), batches.py (one batch: the decisions about each row),
gate.py (pause), retry.py (database outages), recipient_rows.py (claim and record),
delivery_rows.py (step 4), poller.py (delivery statuses nobody called back with),
halts.py (sending stopped by a configuration error), fleet.py (campaign leases and the
live processes, DESIGN.md §13), rate_limit.py (one rate per Twilio sender for all of them).
"""

from .batches import BatchReport
from .queue import Outbox, RunReport
from .rate_limit import SharedRateLimiter

__all__ = ["BatchReport", "Outbox", "RunReport", "SharedRateLimiter"]
