"""Shared helpers for the evidence tests: fixture files and a small Host built from captures."""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from odfix.evidence import regfile
from odfix.hosts.base import CommandResult, Context, RegValue, StoredCredential

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class FixtureHost:
    """A Host whose registry, credentials and command outputs come from real captures.

    Only the observing calls answer; every changing call fails the test, since evidence
    gathering must never change a PC.
    """

    def __init__(self, *, reg: Sequence[bytes] = (), runs: dict[tuple[str, ...], CommandResult]
                 | None = None, credentials: Sequence[StoredCredential] = (),
                 context: Context = Context.USER, name: str = "PC-0001") -> None:
        self.keys: dict[str, list[RegValue]] = {}
        self.paths: dict[str, str] = {}
        for data in reg:
            for key in regfile.parse(data).keys:
                folded = regfile.normalize_key(key.path)
                self.paths[folded] = key.path
                self.keys.setdefault(folded, []).extend(
                    RegValue(name=v.name, kind=v.kind, data=v.data) for v in key.values)
        self.runs = runs or {}
        self.credentials = list(credentials)
        self._context = context
        self.name = name
        self.calls: list[tuple[str, ...]] = []

    def context(self) -> Context:
        return self._context

    def hostname(self) -> str:
        return self.name

    def list_credentials(self, prefix: str | None = None) -> list[StoredCredential]:
        return [c for c in self.credentials if prefix is None or c.target.startswith(prefix)]

    def read_registry(self, key: str, name: str) -> RegValue | None:
        return next((v for v in self.list_registry_values(key)
                     if v.name.casefold() == name.casefold()), None)

    def list_registry_values(self, key: str) -> list[RegValue]:
        return list(self.keys.get(regfile.normalize_key(key), []))

    def list_registry_subkeys(self, key: str) -> list[str]:
        prefix = regfile.normalize_key(key) + "\\"
        names = []
        for folded, path in self.paths.items():
            rest = folded[len(prefix):]
            if folded.startswith(prefix) and "\\" not in rest:
                names.append(path.rsplit("\\", 1)[1])
        return names

    def run(self, argv: Sequence[str], timeout: float = 120.0) -> CommandResult:
        self.calls.append(tuple(argv))
        if tuple(argv) not in self.runs:
            raise FileNotFoundError(f"{argv[0]} is not on this host")
        return self.runs[tuple(argv)]

    def now(self) -> datetime:
        return datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def find_onedrive(self) -> str | None:
        return None

    def _changes(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("evidence gathering must not change the host")

    delete_credential = write_registry = delete_registry_value = _changes
    is_running = start = stop = open_uri = schedule_resume = cancel_resume = _changes
    reboot = sleep = _changes


@pytest.fixture
def fixture_bytes():
    """Read a fixture file by its path under tests/fixtures."""

    def read(relative: str) -> bytes:
        return (FIXTURES / relative).read_bytes()

    return read


@pytest.fixture
def make_host():
    """Build a ``FixtureHost`` (keyword arguments as its constructor)."""
    return FixtureHost
