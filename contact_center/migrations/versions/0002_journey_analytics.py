"""journey analytics: sites, stage rules, first-touch source, conversion dedupe, indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 08:38:42.610056

- ``sites``: websites that report conversions with a per-site key (stored hashed).
- ``stage_rules``: URL pattern -> stage rules managed through the admin API.
- ``visitors.first_source``: the first-touch source label (utm_source, else referring
  domain, else "direct"), back-filled for existing visitors, indexed for filters.
- ``touchpoints``: utm_term/utm_content, ``dedupe_key`` (unique; a site's retried
  conversion is stored once), and (kind, started_at) for the journey map, origins and
  attribution (contacts and conversions are a few percent of the rows).
- ``journey_visitor_days``: per visitor and UTC day, the first touch in each stage;
  kept by a trigger on ``touchpoints`` (a statement trigger over the inserted rows on
  PostgreSQL, a row trigger on SQLite) and back-filled here.  The funnel groups these
  rows instead of every touchpoint.

Every step on an existing table is an ADD COLUMN or CREATE INDEX, so SQLite never
rebuilds a table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contact_center.store.sources import first_source

STAGES = ("awareness", "consideration", "decision", "purchase", "retention")
FIRSTS = ", ".join(f"first_{stage}" for stage in STAGES)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_table(
        "stage_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pattern", sa.String(length=512), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column(
        "touchpoints", sa.Column("utm_term", sa.String(length=256), server_default="", nullable=False)
    )
    op.add_column(
        "touchpoints", sa.Column("utm_content", sa.String(length=256), server_default="", nullable=False)
    )
    op.add_column("touchpoints", sa.Column("dedupe_key", sa.String(length=200), nullable=True))
    op.create_index("ix_touchpoints_kind_time", "touchpoints", ["kind", "started_at"], unique=False)
    op.create_index("uq_touchpoints_dedupe", "touchpoints", ["dedupe_key"], unique=True)

    op.add_column(
        "visitors",
        sa.Column("first_source", sa.String(length=256), server_default="direct", nullable=False),
    )
    _backfill_first_source()
    op.create_index("ix_visitors_first_source", "visitors", ["first_source", "created_at"], unique=False)

    op.create_table(
        "journey_visitor_days",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("visitor_id", sa.String(length=32), nullable=False),
        *(sa.Column(f"first_{stage}", sa.Float(), nullable=True) for stage in STAGES),
        sa.Column("touches", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "visitor_id"),
    )
    _visitor_days_trigger()


def _day(column: str) -> str:
    """UTC day number of a Unix time, in this database's SQL."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST(floor({column} / 86400) AS INTEGER)"
    return f"CAST({column} / 86400 AS INTEGER)"


def _visitor_days_trigger() -> None:
    """Back-fill journey_visitor_days from the touchpoints stored so far, then keep it
    current with a trigger."""
    firsts = ", ".join(f"MIN(CASE WHEN stage = '{stage}' THEN started_at END)" for stage in STAGES)
    op.execute(
        f"INSERT INTO journey_visitor_days (day, visitor_id, {FIRSTS}, touches) "
        f"SELECT {_day('started_at')}, visitor_id, {firsts}, COUNT(*) FROM touchpoints "
        f"GROUP BY {_day('started_at')}, visitor_id"
    )
    if op.get_bind().dialect.name == "postgresql":
        # One upsert per INSERT statement (a page-view batch, a COPY), over the rows
        # it inserted, in key order so concurrent batches lock rows in the same order.
        new_firsts = ", ".join(f"MIN(n.started_at) FILTER (WHERE n.stage = '{stage}')" for stage in STAGES)
        least = ", ".join(f"first_{s} = LEAST(d.first_{s}, EXCLUDED.first_{s})" for s in STAGES)
        op.execute(
            f"""
            CREATE FUNCTION journey_visitor_days_add() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO journey_visitor_days AS d (day, visitor_id, {FIRSTS}, touches)
                SELECT {_day("n.started_at")}, n.visitor_id, {new_firsts}, COUNT(*)
                FROM new_touchpoints n
                GROUP BY 1, 2
                ORDER BY 1, 2
                ON CONFLICT (day, visitor_id) DO UPDATE SET {least}, touches = d.touches + EXCLUDED.touches;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER touchpoints_journey_days AFTER INSERT ON touchpoints "
            "REFERENCING NEW TABLE AS new_touchpoints FOR EACH STATEMENT "
            "EXECUTE FUNCTION journey_visitor_days_add()"
        )
    else:
        values = ", ".join(f"CASE WHEN NEW.stage = '{stage}' THEN NEW.started_at END" for stage in STAGES)
        least = ", ".join(
            f"first_{s} = COALESCE(MIN(first_{s}, excluded.first_{s}), first_{s}, excluded.first_{s})"
            for s in STAGES
        )
        op.execute(
            f"""
            CREATE TRIGGER touchpoints_journey_days AFTER INSERT ON touchpoints
            BEGIN
                INSERT INTO journey_visitor_days (day, visitor_id, {FIRSTS}, touches)
                VALUES ({_day("NEW.started_at")}, NEW.visitor_id, {values}, 1)
                ON CONFLICT (day, visitor_id) DO UPDATE SET {least}, touches = touches + 1;
            END
            """
        )


def _backfill_first_source() -> None:
    """Existing visitors get the label a new one would get from the same first touch."""
    bind = op.get_bind()
    visitors = sa.table(
        "visitors",
        sa.column("id", sa.String),
        sa.column("first_referrer", sa.Text),
        sa.column("first_landing_url", sa.Text),
        sa.column("first_utm_source", sa.String),
        sa.column("first_source", sa.String),
    )
    # The common case in SQL: a UTM source.
    bind.execute(
        visitors.update()
        .where(visitors.c.first_utm_source != "")
        .values(first_source=sa.func.lower(sa.func.trim(visitors.c.first_utm_source)))
    )
    # Referring domains need URL parsing: in batches, only rows with a referrer.
    rows = bind.execute(
        sa.select(visitors.c.id, visitors.c.first_referrer, visitors.c.first_landing_url).where(
            visitors.c.first_utm_source == "", visitors.c.first_referrer != ""
        )
    ).all()
    updates = [
        {"b_id": row.id, "b_source": first_source("", row.first_referrer, row.first_landing_url)}
        for row in rows
    ]
    updates = [u for u in updates if u["b_source"] != "direct"]
    statement = (
        visitors.update()
        .where(visitors.c.id == sa.bindparam("b_id"))
        .values(first_source=sa.bindparam("b_source"))
    )
    for start in range(0, len(updates), 5000):
        bind.execute(statement, updates[start : start + 5000])


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS touchpoints_journey_days"
        + (" ON touchpoints" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS journey_visitor_days_add()")
    op.drop_table("journey_visitor_days")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_index("ix_visitors_first_source")
        batch_op.drop_column("first_source")

    with op.batch_alter_table("touchpoints", schema=None) as batch_op:
        batch_op.drop_index("uq_touchpoints_dedupe")
        batch_op.drop_index("ix_touchpoints_kind_time")
        batch_op.drop_column("dedupe_key")
        batch_op.drop_column("utm_content")
        batch_op.drop_column("utm_term")

    op.drop_table("stage_rules")
    op.drop_table("sites")
