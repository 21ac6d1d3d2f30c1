"""Where command output goes: Rich for people, one JSON document on stdout for machines."""

import json
import sys
from typing import Any

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (pydantic models are dumped in JSON mode)."""
    if hasattr(document, "model_dump"):
        document = document.model_dump(mode="json")
    sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()
