"""The journal: durable JSONL, run bookkeeping for --resume, crash-torn last lines."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from odfix.errors import BadInput
from odfix.fix.journal import JOURNAL_FILE, Entry, Journal, data_dir, new_run_id

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _entry(run: str, kind: str, step: str | None = None) -> Entry:
    return Entry.model_validate({"run_id": run, "kind": kind, "time": T0, "step": step})


def test_data_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ODFIX_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data_dir() == tmp_path / "elsewhere"
    assert Journal().path == tmp_path / "elsewhere" / JOURNAL_FILE


def test_run_ids_sort_by_time_and_are_unique():
    first, second = new_run_id(T0), new_run_id(T0)
    assert first != second and first.startswith("20261120T090000Z-")


def test_open_run_and_finished_steps(tmp_path: Path):
    book = Journal(tmp_path / "j.jsonl")
    for entry in (_entry("a", "run-start"), _entry("a", "run-end"), _entry("b", "run-start"),
                  _entry("b", "step-start", "m/1"), _entry("b", "step-done", "m/1"),
                  _entry("b", "step-start", "m/2"), _entry("b", "paused", "m/2"),
                  _entry("b", "step-start", "m/3")):
        book.append(entry)
    assert book.run_ids() == ["a", "b"]
    assert book.open_run() == "b"
    assert book.finished_steps("b") == {"m/1", "m/2"}
    assert [e.kind for e in book.entries("a")] == ["run-start", "run-end"]


def test_a_torn_last_line_is_ignored_but_damage_inside_is_bad_input(tmp_path: Path):
    book = Journal(tmp_path / "j.jsonl")
    book.append(_entry("a", "run-start"))
    with book.path.open("a", encoding="utf-8") as handle:
        handle.write('{"run_id": "a", "ki')
    assert len(book.entries()) == 1
    with book.path.open("a", encoding="utf-8") as handle:
        handle.write("\n" + _entry("a", "run-end").model_dump_json() + "\n")
    with pytest.raises(BadInput, match="not a journal entry"):
        book.entries()


def test_empty_journal(tmp_path: Path):
    book = Journal(tmp_path / "none.jsonl")
    assert book.entries() == [] and book.open_run() is None
