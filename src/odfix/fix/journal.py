"""The fix journal: one JSON line per event of a run, with the before-state of every change.

It lives in the per-user data directory (``platformdirs``; ``ODFIX_DATA_DIR`` overrides it) as
``journal.jsonl``. Secrets are never written: a credential is recorded by target, type,
persistence, user name and last-written time only. ``--resume`` reads it back to find the steps a
run already finished.

Every run belongs to one host (``owner``: the computer, or one simulated PC of one scenario);
``open_run`` and ``last_fixed`` only see the runs of the owner asked about. The journal is a
record, not an authority: the engine decides every safety gate from the live PC and the command
line, never from what a line here says. A damaged line (not UTF-8, not JSON, nested too deep,
missing a field the engine needs) is a clear ``BadInput``; a torn last line from a crash is
ignored, and cut off before the next append.
"""

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from odfix.errors import BadInput, Busy, IOFailure

Kind = Literal["run-start", "step-start", "change", "step-done", "verify", "paused", "run-end"]
JOURNAL_FILE = "journal.jsonl"
LOCK_FOLDER = "locks"
MAX_LINE = 1 << 20
"""A line longer than 1 MiB is not one odfix wrote."""


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


class RunStart(BaseModel):
    """What ``--resume`` takes from a run's ``run-start``: which methods, which steps.

    Deliberately absent: ``allow_unjoin`` and anything else a gate decides (the live PC and the
    command line decide those at each step).
    """

    owner: str
    cause: str
    plan: list[str] = Field(min_length=1)
    join_type: str
    escalation: str | None = None
    device_id: str | None = None
    user: str | None = None
    evidence: str | None = None
    """The diagnosis's key evidence line, for the ticket note of the resumed run."""


class Journal:
    """Append-only JSONL file; each append is flushed and fsynced so a crash keeps it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / JOURNAL_FILE

    # -- writing --------------------------------------------------------------------------
    def append(self, entry: Entry) -> None:
        """Write one entry durably (a torn last line of an earlier crash is cut off first)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                self._cut_torn_tail(handle)
                handle.write(entry.model_dump_json().encode("utf-8") + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise IOFailure(f"cannot write the journal {self.path}: "
                            f"{error.strerror or error}") from None

    @staticmethod
    def _cut_torn_tail(handle: Any) -> None:
        end = handle.seek(0, os.SEEK_END)
        if end == 0:
            return
        with open(handle.name, "rb") as reader:
            reader.seek(max(0, end - MAX_LINE))
            tail = reader.read()
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        handle.truncate(end - len(tail) + cut + 1 if cut >= 0 else max(0, end - len(tail)))

    @contextmanager
    def lock(self, owner: str) -> Iterator[None]:
        """Hold this owner's run lock (``Busy``, exit 7, when another process has it).

        An OS file lock (``filelock``): the operating system releases it when the holder dies,
        so a crashed run never blocks the next one.
        """
        from filelock import FileLock, Timeout

        folder = self.path.parent / LOCK_FOLDER
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise IOFailure(f"cannot create {folder}: {error.strerror or error}") from None
        name = uuid.uuid5(uuid.NAMESPACE_URL, f"odfix:{owner}").hex
        held = FileLock(folder / f"{name}.lock", timeout=0)
        try:
            held.acquire()
        except Timeout:
            raise Busy(f"another odfix fix is running on {owner} (lock {held.lock_file}); "
                       "wait for it to end") from None
        try:
            yield
        finally:
            held.release()

    # -- reading --------------------------------------------------------------------------
    def entries(self, run_id: str | None = None) -> list[Entry]:
        """All entries (of one run), in file order; a torn last line from a crash is skipped."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise IOFailure(f"cannot read the journal {self.path}: "
                            f"{error.strerror or error}") from None
        # After the last newline: nothing, or a line a crash cut short (ignored).
        lines = raw.split(b"\n")[:-1]
        out: list[Entry] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            entry = self._parse(line, number)
            if run_id is None or entry.run_id == run_id:
                out.append(entry)
        return out

    def _parse(self, line: bytes, number: int) -> Entry:
        where = f"{self.path}:{number}"
        if len(line) > MAX_LINE:
            raise BadInput(f"{where}: not a journal entry (a line of {len(line)} bytes)")
        try:
            return Entry.model_validate(json.loads(line.decode("utf-8")))
        except UnicodeDecodeError:
            problem = "not UTF-8"
        except RecursionError:
            problem = "nested too deeply"
        except json.JSONDecodeError as error:
            problem = f"not JSON ({error.msg})"
        except ValidationError as error:
            first = error.errors()[0]
            problem = f"{'.'.join(str(p) for p in first['loc']) or 'entry'}: {first['msg']}"
        raise BadInput(f"{where}: not a journal entry: {problem}; the journal is damaged — move "
                       "it aside to start afresh")

    def run_ids(self, owner: str | None = None) -> list[str]:
        """Run ids (of one owner), oldest first."""
        seen: dict[str, None] = {}
        for entry in self.entries():
            if owner is None or (entry.kind == "run-start" and entry.data.get("owner") == owner):
                seen.setdefault(entry.run_id, None)
        return list(seen)

    def open_run(self, owner: str) -> str | None:
        """The owner's newest run that has not ended (paused, rebooting or crashed), if any."""
        entries = self.entries()
        mine = {e.run_id for e in entries
                if e.kind == "run-start" and e.data.get("owner") == owner}
        ended = {e.run_id for e in entries if e.kind == "run-end"}
        runs = [r for r in dict.fromkeys(e.run_id for e in entries) if r in mine - ended]
        return runs[-1] if runs else None

    def last_fixed(self, owner: str) -> Entry | None:
        """The ``run-end`` of the owner's newest run that left the PC healthy, if any."""
        entries = self.entries()
        mine = {e.run_id for e in entries
                if e.kind == "run-start" and e.data.get("owner") == owner}
        ends = [e for e in entries
                if e.kind == "run-end" and e.run_id in mine and e.data.get("healthy") is True]
        return ends[-1] if ends else None

    def run_start(self, run_id: str) -> RunStart:
        """The run's ``run-start``, checked; a missing or incomplete one is ``BadInput``."""
        start = next((e for e in self.entries(run_id) if e.kind == "run-start"), None)
        if start is None:
            raise BadInput(f"run {run_id} in {self.path} has no run-start entry; it cannot be "
                           "resumed — run odfix fix --apply to start afresh")
        try:
            return RunStart.model_validate(start.data)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "data"
            raise BadInput(f"run {run_id} in {self.path}: its run-start entry is damaged "
                           f"({field}: {first['msg']}); it cannot be resumed — run odfix fix "
                           "--apply to start afresh") from None

    def finished_steps(self, run_id: str) -> set[str]:
        """Steps of a run that completed, or that the person was asked to do before a pause."""
        return {e.step for e in self.entries(run_id)
                if e.kind in ("step-done", "paused") and e.step is not None}
