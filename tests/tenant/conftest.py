"""Shared helpers for the tenant tests: fixture paths and a loaded DuckDB connection."""

from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tenant"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def con() -> Iterator[object]:
    from odfix.tenant.load import connect

    connection = connect()
    yield connection
    connection.close()
