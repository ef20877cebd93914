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

Crash safety: a process killed between 1 and 3 leaves rows with a lease that expires, so
they become claimable again, and `unsure_since` tells the next claimer the outcome is
unknown: it asks the provider whether a message with that body already went to that number
since then (`find_sent`) before sending. The only duplicate left is a provider that accepted
the message but does not list it yet when we ask — see the note on issue 3.

Modules: queue.py (Outbox: kicks, runs, drains, pacing), runner.py (the one background
thread that runs kicked work), batches.py (one batch: the decisions about each row),
gate.py (pause), retry.py (database outages), recipient_rows.py (claim and record),
halts.py (sending stopped by a configuration error).
"""

from .batches import BatchReport
from .queue import Outbox, RateLimiter, RunReport

__all__ = ["BatchReport", "Outbox", "RateLimiter", "RunReport"]
