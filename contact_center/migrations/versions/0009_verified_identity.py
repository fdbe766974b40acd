"""verified identity: a site's identity secret, and its customers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:00:00.000000

A site that knows its customer passes the customer's id to the widget with an
HMAC-SHA256 of it under the site's identity secret.  The secret is derived from the
server's secret key and a random salt kept on the site (rotating it is a new salt);
``customers`` maps (site, the site's id for the customer) to the one visitor id every
verified device of that customer gets.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_salt", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("identity_prefix", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("identity_rotated_at", sa.Float(), nullable=True))
    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("visitor_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("verified_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "external_id", name="uq_customers_site_external"),
    )
    op.create_index("uq_customers_visitor", "customers", ["visitor_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_customers_visitor", table_name="customers")
    op.drop_table("customers")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("identity_rotated_at")
        batch_op.drop_column("identity_prefix")
        batch_op.drop_column("identity_salt")
