"""Rollups the dashboard reads instead of scanning every report: weekly counts per cause and
method, and each device id's PC names (clones); both filled from the reports already stored.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from odfix.console.rollup import backfill

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "weekly_stats",
        sa.Column("week", sa.String(10), primary_key=True),
        sa.Column("cause", sa.String(64), primary_key=True),
        sa.Column("method", sa.String(64), primary_key=True),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("fixed", sa.Integer, nullable=False),
        sa.Column("needed_person", sa.Integer, nullable=False),
    )
    op.create_table(
        "device_names",
        sa.Column("device_id", sa.String(100), primary_key=True),
        sa.Column("device_name", sa.String(255), primary_key=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    backfill(op.get_bind())
