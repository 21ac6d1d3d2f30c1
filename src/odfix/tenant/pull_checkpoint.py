"""What a pull asked for and how far it got, saved atomically after every finished time slice."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from odfix.errors import BadInput

EVENT_TYPES: dict[str, str] = {
    "interactiveUser": "/v1.0/auditLogs/signIns",
    "nonInteractiveUser": "/beta/auditLogs/signIns",
}
"""Sign-in event types and where Graph serves them (non-interactive only on beta)."""

EXTRAS: tuple[str, ...] = ("users", "policies", "groups", "devices", "audits")
CHECKPOINT_NAME = "pull-checkpoint.json"


class PullPlan(BaseModel):
    """One pull: a ``[since, until]`` window cut into slices, event types, filters, extras."""

    since: datetime
    until: datetime
    slice_hours: float = Field(6.0, gt=0)
    event_types: tuple[str, ...] = tuple(EVENT_TYPES)
    user: str | None = None
    app_id: str | None = None
    extras: tuple[str, ...] = EXTRAS

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=0)

    @model_validator(mode="after")
    def _check(self) -> "PullPlan":
        if self.until <= self.since:
            raise ValueError("--until must be later than --since")
        unknown = set(self.event_types) - set(EVENT_TYPES) | set(self.extras) - set(EXTRAS)
        if unknown:
            raise ValueError(f"unknown event types or extras: {', '.join(sorted(unknown))}")
        return self

    def slices(self) -> list[tuple[datetime, datetime]]:
        """Consecutive ``[start, end]`` windows, oldest first; adjacent ones share their edge."""
        step = timedelta(hours=self.slice_hours)
        out, start = [], self.since
        while start < self.until:
            end = min(start + step, self.until)
            out.append((start, end))
            start = end
        return out


class SliceProgress(BaseModel):
    """Per event type: the next slice to pull and the ids sitting on the last finished edge."""

    next_slice: int = 0
    edge_ids: list[str] = []
    rows: int = 0
    files: list[str] = []


class Checkpoint(BaseModel):
    """The state file of an output folder; a resumed pull starts where this says."""

    version: int = 1
    plan: PullPlan
    signins: dict[str, SliceProgress] = {}
    extras_done: dict[str, int] = {}
    complete: bool = False

    @classmethod
    def start(cls, plan: PullPlan) -> "Checkpoint":
        """A fresh checkpoint for ``plan``."""
        return cls(plan=plan, signins={t: SliceProgress() for t in plan.event_types})

    @classmethod
    def load(cls, path: Path) -> "Checkpoint":
        """Read a checkpoint; a damaged one is bad input naming the file."""
        try:
            return cls.model_validate_json(path.read_bytes())
        except (OSError, ValidationError, ValueError) as error:
            first = str(error).splitlines()[0]
            raise BadInput(f"{path}: not a readable pull checkpoint ({first})") from error

    def save(self, path: Path) -> None:
        """Write atomically (temporary file, fsync, rename)."""
        write_atomic(path, self.model_dump_json(indent=1).encode())


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a crash leaves either the old or the new file."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
