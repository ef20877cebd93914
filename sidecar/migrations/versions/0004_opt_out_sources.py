"""suppression sources manual, keyword, provider; opt-outs per day

Issue 14 (DESIGN.md §10): a suppression row's source is now exactly one of `manual` (an
admin added it, one number or a pasted list), `keyword` (the customer replied STOP) or
`provider` (Twilio refused the number: 21610, 30004, 30005, 30006). Rows of earlier versions
are mapped: `opt_out` (the automatic 21610 opt-out) → `provider`, `bulk` (pasted) → `manual`,
anything else → `manual`. An index on the phone lets an inbound START clear the number in
every tenant at once. `daily_stats` gains `opt_outs` (keyword and provider rows added per
tenant and UTC day), filled from the `provider` rows already there so the dashboard's
30-day figure is right straight after the upgrade.

Downgrade: `provider` and `keyword` rows become `opt_out` (0.2.0 knew only that automatic
source; their reasons still name the code or the keyword), `manual` rows stay `manual` —
which of them were pasted as a list (`bulk`) is not known any more, so 0.2.0 shows them all
as added one by one. `opt_outs` is dropped (it is derived from rows the list keeps).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sidecar.migrations import prefixed

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SOURCES = ("manual", "keyword", "provider")
SOURCE_COMMENT = ("manual (an admin, one or pasted) | keyword (replied STOP) | "
                  "provider (Twilio refused the number)")
DAILY_COMMENT_BEFORE = "Messages sent and failed per tenant and day (dashboard)."
DAILY_COMMENT = "Messages sent and failed, and opt-outs, per tenant and day (dashboard)."
OPT_OUTS_COMMENT = "numbers added to the suppression list by a keyword or the provider"


def _suppressions() -> sa.TableClause:
    return sa.table(prefixed("suppressions"), sa.column("tenant_id", sa.Integer),
                    sa.column("phone"), sa.column("source"),
                    sa.column("created_at", sa.Integer))


def _daily() -> sa.TableClause:
    return sa.table(prefixed("daily_stats"), sa.column("tenant_id", sa.Integer),
                    sa.column("day", sa.Integer), sa.column("sent", sa.Integer),
                    sa.column("failed", sa.Integer), sa.column("opt_outs", sa.Integer))


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def _comments(source: str | None, daily: str, *, existing_source: str | None,
              existing_daily: str) -> None:
    """Column and table comments exist on MariaDB/MySQL only (SQLite has none to change)."""
    if not _is_mysql():
        return
    op.alter_column(prefixed("suppressions"), "source", existing_type=sa.String(16),
                    existing_nullable=False, existing_server_default="manual",
                    comment=source, existing_comment=existing_source)
    op.create_table_comment(prefixed("daily_stats"), daily, existing_comment=existing_daily)


def upgrade() -> None:
    s, d = _suppressions(), _daily()
    op.execute(s.update().where(s.c.source == "opt_out").values(source="provider"))
    op.execute(s.update().where(s.c.source.not_in(SOURCES)).values(source="manual"))
    op.create_index(prefixed("suppressions_phone"), prefixed("suppressions"), ["phone"])
    with op.batch_alter_table(prefixed("daily_stats")) as batch:
        batch.add_column(sa.Column("opt_outs", sa.Integer, nullable=False, server_default="0",
                                   comment=OPT_OUTS_COMMENT))
    _comments(SOURCE_COMMENT, DAILY_COMMENT, existing_source=None,
              existing_daily=DAILY_COMMENT_BEFORE)

    # Opt-outs of earlier versions (provider rows, by the day they were added): days that
    # already have a row get the count, the others a new row with nothing sent.
    provider = s.c.source == "provider"
    day = s.c.created_at // 86400
    same_day = sa.and_(provider, s.c.tenant_id == d.c.tenant_id, day == d.c.day)
    op.execute(d.update().where(sa.exists().where(same_day)).values(
        opt_outs=sa.select(sa.func.count()).where(same_day).scalar_subquery()))
    dd = sa.table(prefixed("daily_stats"), sa.column("tenant_id"), sa.column("day")).alias("dd")
    missing = (sa.select(s.c.tenant_id, day.label("day"), sa.literal(0), sa.literal(0),
                         sa.func.count())
               .where(provider, ~sa.exists().where(dd.c.tenant_id == s.c.tenant_id,
                                                   dd.c.day == day))
               .group_by(s.c.tenant_id, day))
    op.execute(d.insert().from_select(["tenant_id", "day", "sent", "failed", "opt_outs"],
                                      missing))


def downgrade() -> None:
    s = _suppressions()
    _comments(None, DAILY_COMMENT_BEFORE, existing_source=SOURCE_COMMENT,
              existing_daily=DAILY_COMMENT)
    with op.batch_alter_table(prefixed("daily_stats")) as batch:
        batch.drop_column("opt_outs")
    op.drop_index(prefixed("suppressions_phone"), table_name=prefixed("suppressions"))
    op.execute(s.update().where(s.c.source.in_(("provider", "keyword"))).values(source="opt_out"))
