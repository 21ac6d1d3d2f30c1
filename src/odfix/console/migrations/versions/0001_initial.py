"""The first schema: accounts, settings, sites and tokens, cases, intakes, reports, analyses.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(400), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_login_at", UTC_TIME),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
    )
    op.create_table(
        "enrolment_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("revoked_at", UTC_TIME),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket", sa.String(100)),
        sa.Column("upn", sa.String(320)),
        sa.Column("device_id", sa.String(100)),
        sa.Column("device_name", sa.String(255)),
        sa.Column("cause", sa.String(64), nullable=False),
        sa.Column("join_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("method", sa.String(64)),
        sa.Column("needs_person", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("opened_at", UTC_TIME, nullable=False),
        sa.Column("fixed_at", UTC_TIME),
        sa.Column("closed_at", UTC_TIME),
        sa.Column("ttf_s", sa.Integer),
        sa.Column("user_gap_s", sa.Integer),
        sa.Column("device_gap_s", sa.Integer),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("accounts.id")),
    )
    op.create_index("ix_cases_status_opened", "cases", ["status", "opened_at"])
    op.create_index("ix_cases_upn", "cases", ["upn", "status"])
    op.create_index("ix_cases_device", "cases", ["device_id", "status"])
    op.create_index("ix_cases_cause_ttf", "cases", ["cause", "ttf_s"])
    op.create_index("ix_cases_method_ttf", "cases", ["method", "ttf_s"])
    op.create_index("ix_cases_user_gap", "cases", ["user_gap_s", "upn"])
    op.create_index("ix_cases_device_gap", "cases", ["device_gap_s", "device_id"])
    op.create_table(
        "intakes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("bundle_name", sa.String(200), nullable=False),
        sa.Column("error_code", sa.String(32)),
        sa.Column("cause", sa.String(64), nullable=False),
        sa.Column("diagnosis", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_intakes_case_id", "intakes", ["case_id"])
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("run_id", sa.String(200), nullable=False, unique=True),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("enrolment_tokens.id"), nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id")),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("upn", sa.String(320)),
        sa.Column("device_id", sa.String(100)),
        sa.Column("device_name", sa.String(255)),
        sa.Column("cause", sa.String(64), nullable=False),
        sa.Column("join_type", sa.String(32), nullable=False),
        sa.Column("method", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("exit_code", sa.Integer, nullable=False),
        sa.Column("started_at", UTC_TIME),
        sa.Column("finished_at", UTC_TIME, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_reports_case_id", "reports", ["case_id"])
    op.create_index("ix_reports_device_id", "reports", ["device_id"])
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("result", sa.Text, nullable=False),
    )
    op.create_table(
        "analysis_users",
        sa.Column("analysis_id", sa.Integer, sa.ForeignKey("analyses.id"), primary_key=True),
        sa.Column("upn", sa.String(320), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("category", sa.String(64)),
        sa.Column("period_hours", sa.Float),
        sa.Column("policy_id", sa.String(100)),
        sa.Column("policy_name", sa.String(300)),
        sa.Column("sign_in_frequency_hours", sa.Float),
        sa.Column("password_change", sa.Boolean, nullable=False),
    )
    op.create_index("ix_analysis_users_upn", "analysis_users", ["upn"])
