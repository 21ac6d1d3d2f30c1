"""Where command output goes: Rich for people, one JSON document on stdout for machines."""

import json
import sys
from typing import Any

from pydantic import BaseModel
from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (pydantic models serialise themselves)."""
    if isinstance(document, BaseModel):
        text = document.model_dump_json()  # pydantic's own serialiser: ~7x json.dumps on 9 MB
    else:
        text = json.dumps(document, ensure_ascii=False, default=str)
    sys.stdout.write(text)
    sys.stdout.write("\n")
    sys.stdout.flush()
