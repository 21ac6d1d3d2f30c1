"""Helpers for the fix tests: a private data directory and simulated PCs in tmp_path."""

import hashlib
from pathlib import Path

import pytest

from odfix.hosts.simulated import SimulatedHost, build_host, load_scenario


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own journal and simulated-PC store."""
    folder = tmp_path / "data"
    monkeypatch.setenv("ODFIX_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def make_host(tmp_path: Path):
    """Build a simulated PC of a scenario in its own folder."""
    counter = iter(range(1000))

    def make(name: str) -> SimulatedHost:
        return build_host(load_scenario(name), tmp_path / f"pc{next(counter)}")

    return make


def folder_digest(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
