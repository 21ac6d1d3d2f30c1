"""The console's tables (SQLAlchemy 2) and the engine: SQLite in WAL mode, or PostgreSQL.

The schema is created and upgraded only by the Alembic migrations in ``migrations/``
(``odfix.console.migrate``); ``Base.metadata`` must stay equal to what they build (a test
compares them). Times are stored in UTC; durations the dashboard ranks are kept in seconds.
"""

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both databases (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def table_of(model: type["Base"]) -> Table:
    """A model's Core table (typed as one)."""
    return cast(Table, model.__table__)


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Console-wide settings: the session secret, the organisation's name for the KB."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Account(Base):
    """A person who signs in: an OIDC subject (``oidc:<iss>|<sub>``) or the local break-glass."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(400), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Site(Base):
    """A place PCs report from; each has its own enrolment tokens."""

    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class EnrolmentToken(Base):
    """A per-site bearer token for posting reports; only its SHA-256 is stored."""

    __tablename__ = "enrolment_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    label: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Case(Base):
    """One user's trouble on one PC, from intake or from a failing fleet report, until fixed."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket: Mapped[str | None] = mapped_column(String(100))
    upn: Mapped[str | None] = mapped_column(String(320))
    device_id: Mapped[str | None] = mapped_column(String(100))
    device_name: Mapped[str | None] = mapped_column(String(255))
    cause: Mapped[str] = mapped_column(String(64))
    join_type: Mapped[str] = mapped_column(String(32), default="unknown")
    status: Mapped[str] = mapped_column(String(16), default="open")
    """``open``, ``fixed`` (a verified fix) or ``closed`` (by a technician, unfixed)."""
    method: Mapped[str | None] = mapped_column(String(64))
    """The method that fixed it (or, while open, the last one tried)."""
    needs_person: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="intake")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    fixed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ttf_s: Mapped[int | None] = mapped_column(Integer)
    """Seconds from opening to the verified fix."""
    user_gap_s: Mapped[int | None] = mapped_column(Integer)
    """Seconds since the same user's previous case was fixed (a recurrence), when there is one."""
    device_gap_s: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    __table_args__ = (
        Index("ix_cases_status_opened", "status", "opened_at"),
        Index("ix_cases_upn", "upn", "status"),
        Index("ix_cases_device", "device_id", "status"),
        Index("ix_cases_cause_ttf", "cause", "ttf_s"),
        Index("ix_cases_method_ttf", "method", "ttf_s"),
        Index("ix_cases_user_gap", "user_gap_s", "upn"),
        Index("ix_cases_device_gap", "device_gap_s", "device_id"),
        Index("ix_cases_summary", "cause", "method", "status", "needs_person", "ttf_s"),
    )


class Intake(Base):
    """One diagnosis made in the console from an uploaded bundle or pasted captures."""

    __tablename__ = "intakes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    bundle_name: Mapped[str] = mapped_column(String(200))
    error_code: Mapped[str | None] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(64))
    diagnosis: Mapped[str] = mapped_column(Text)
    """The ``odfix diagnose --json`` document."""
    note: Mapped[str | None] = mapped_column(Text)


class Report(Base):
    """One PC's fix run as posted by ``odfix fix --report-to`` or imported from Intune."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    run_id: Mapped[str] = mapped_column(String(200), unique=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    token_id: Mapped[int] = mapped_column(ForeignKey("enrolment_tokens.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    upn: Mapped[str | None] = mapped_column(String(320))
    device_id: Mapped[str | None] = mapped_column(String(100), index=True)
    device_name: Mapped[str | None] = mapped_column(String(255))
    cause: Mapped[str] = mapped_column(String(64))
    join_type: Mapped[str] = mapped_column(String(32))
    method: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    exit_code: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    document: Mapped[str] = mapped_column(Text)


class DeviceName(Base):
    """Each (Entra device id, PC name) pair seen in reports: one id on two names is a clone."""

    __tablename__ = "device_names"
    device_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    device_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)


class WeeklyStat(Base):
    """Run counts per ISO week (its Monday), cause and method, kept up to date by ingest."""

    __tablename__ = "weekly_stats"
    week: Mapped[str] = mapped_column(String(10), primary_key=True)
    cause: Mapped[str] = mapped_column(String(64), primary_key=True)
    method: Mapped[str] = mapped_column(String(64), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    fixed: Mapped[int] = mapped_column(Integer, default=0)
    needed_person: Mapped[int] = mapped_column(Integer, default=0)


class Analysis(Base):
    """One tenant sign-in analysis, kept whole (the ``signins analyze --json`` document)."""

    __tablename__ = "analyses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    result: Mapped[str] = mapped_column(Text)


class AnalysisUser(Base):
    """One affected user of an analysis, with the policy that explains their cadence, if any."""

    __tablename__ = "analysis_users"
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), primary_key=True)
    upn: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(64))
    period_hours: Mapped[float | None] = mapped_column(Float)
    policy_id: Mapped[str | None] = mapped_column(String(100))
    policy_name: Mapped[str | None] = mapped_column(String(300))
    sign_in_frequency_hours: Mapped[float | None] = mapped_column(Float)
    password_change: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_analysis_users_upn", "upn"),)


class TenantPull(Base):
    """A sign-in pull from Microsoft Graph started in the console, its progress and outcome."""

    __tablename__ = "tenant_pulls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    """``running``, ``done`` or ``failed``."""
    rows: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    analysis_id: Mapped[int | None] = mapped_column(ForeignKey("analyses.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL (readers never block the writer), full fsync at commit, wait rather than fail."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://…`` (psycopg 3)."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=8, max_overflow=16)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)


def sessions(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
