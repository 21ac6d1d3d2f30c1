"""The fix journal: one JSON line per event of a run, with the before-state of every change.

It lives in the per-user data directory (``platformdirs``; ``ODFIX_DATA_DIR`` overrides it) as
``journal.jsonl``. Secrets are never written: a credential is recorded by target, type,
persistence, user name and last-written time only. ``--resume`` reads it back to find the steps a
run already finished.
"""

import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from odfix.errors import BadInput

Kind = Literal["run-start", "step-start", "change", "step-done", "verify", "paused", "run-end"]
JOURNAL_FILE = "journal.jsonl"


def data_dir() -> Path:
    """The per-user data directory (``ODFIX_DATA_DIR`` when set, for tests and kiosks)."""
    override = os.environ.get("ODFIX_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("odfix", appauthor=False))


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id: ``20261120T090000Z-1a2b3c``."""
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


class Entry(BaseModel):
    """One journal line."""

    run_id: str
    kind: Kind
    time: datetime
    step: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Journal:
    """Append-only JSONL file; each append is flushed and fsynced so a crash keeps it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / JOURNAL_FILE

    def append(self, entry: Entry) -> None:
        """Write one entry durably."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(entry.model_dump_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def entries(self, run_id: str | None = None) -> list[Entry]:
        """All entries (of one run), in file order; a torn last line from a crash is skipped."""
        if not self.path.exists():
            return []
        out: list[Entry] = []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = Entry.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as error:
                if number == len(lines):
                    break
                raise BadInput(f"{self.path}:{number}: not a journal entry: {error}") from None
            if run_id is None or entry.run_id == run_id:
                out.append(entry)
        return out

    def run_ids(self) -> list[str]:
        """Run ids, oldest first."""
        seen: dict[str, None] = {}
        for entry in self.entries():
            seen.setdefault(entry.run_id, None)
        return list(seen)

    def open_run(self) -> str | None:
        """The newest run that has not ended (paused, rebooting or crashed), if any."""
        ended = {e.run_id for e in self.entries() if e.kind == "run-end"}
        runs = [r for r in self.run_ids() if r not in ended]
        return runs[-1] if runs else None

    def last_fixed(self) -> Entry | None:
        """The ``run-end`` of the newest run that left the PC healthy, if any."""
        ends = [e for e in self.entries() if e.kind == "run-end" and e.data.get("healthy")]
        return ends[-1] if ends else None

    def finished_steps(self, run_id: str) -> set[str]:
        """Steps of a run that completed, or that the person was asked to do before a pause."""
        return {e.step for e in self.entries(run_id)
                if e.kind in ("step-done", "paused") and e.step is not None}
