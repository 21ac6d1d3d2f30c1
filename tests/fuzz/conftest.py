"""Fuzz suite settings: a short slice in the normal run, the long run by environment variable.

``ODFIX_FUZZ_EXAMPLES`` sets the inputs per parser (default 150, a few seconds in all);
``ODFIX_FUZZ_REPORT=path`` writes what each parser saw (inputs, outcomes, slowest input's CPU
seconds) as JSON every 5,000 inputs and at the end. The long run is documented in
docs/perf-parsers.md.
"""

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

from odfix.errors import OdfixError

from ..evidence import hostile

EXAMPLES = int(os.environ.get("ODFIX_FUZZ_EXAMPLES", "150"))
PER_INPUT_S = 5.0
"""CPU seconds one input may take; the hang guard fails the run past it."""
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    derandomize=EXAMPLES < 1000,
                    phases=(Phase.generate, Phase.shrink),
                    suppress_health_check=list(HealthCheck))
STATS: dict[str, dict[str, float]] = {}


def exercise(name: str, parse: Callable[[bytes], object], data: bytes) -> None:
    """Parse one input: a result or one ``OdfixError`` (a clear line) are fine; anything else
    is a crash and fails the test; so does an input using more than ``PER_INPUT_S`` of CPU."""
    stats = STATS.setdefault(name, {"inputs": 0, "parsed": 0, "refused": 0, "slowest_s": 0.0})
    start = time.process_time()
    with hostile.deadline(PER_INPUT_S):
        try:
            result = parse(data)
        except OdfixError as error:
            assert error.message and "\n" not in error.message
            stats["refused"] += 1
        else:
            if hasattr(result, "model_dump_json"):
                result.model_dump_json()
            stats["parsed"] += 1
    stats["inputs"] += 1
    stats["slowest_s"] = max(stats["slowest_s"], time.process_time() - start)
    if stats["inputs"] % 5000 == 0:
        _write_report()


def _write_report() -> None:
    target = os.environ.get("ODFIX_FUZZ_REPORT")
    if target:
        Path(target).write_text(json.dumps({"examples": EXAMPLES, "parsers": STATS}, indent=2))


@pytest.fixture(scope="session", autouse=True)
def _report() -> Iterator[None]:
    yield
    _write_report()
