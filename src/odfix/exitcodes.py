"""The one exit-status enum every odfix command uses (DESIGN.md, Intune detection convention)."""

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit statuses; 1 means "problem detected" so Intune detection scripts can use it."""

    OK = 0
    PROBLEM = 1
    BAD_INPUT = 2
    FIX_FAILED = 3
    NEEDS_USER = 4
    WRONG_CONTEXT = 5
