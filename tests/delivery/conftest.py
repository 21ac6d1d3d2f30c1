"""Every delivery test gets its own journal and simulated-PC store."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("ODFIX_DATA_DIR", str(folder))
    return folder
