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
    NETWORK = 6  # the network or DNS is down, or a service cannot be reached: try again later
    BUSY = 7  # another odfix run holds this PC's fix lock
    IO_ERROR = 8  # a file could not be read or written (disk full, permission denied, a device)
    INTERRUPTED = 130  # Ctrl+C (128 + SIGINT, the shell convention)
    INTERNAL = 70  # a bug in odfix (EX_SOFTWARE): one line, and ODFIX_DEBUG=1 shows the traceback
