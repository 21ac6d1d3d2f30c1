"""Does a failure come back at a regular cadence (a Conditional Access sign-in frequency)?"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import pairwise
from math import ceil
from statistics import median

from pydantic import BaseModel

BURST = timedelta(minutes=10)
"""Failures closer together than this are one occurrence (one sign-in logs several events)."""
MIN_OCCURRENCES = 3
TOLERANCE = 0.25
"""Every gap must lie within this fraction of the median gap for the cadence to count as regular."""


class Cadence(BaseModel):
    """Occurrences of a failure, the median gap between them and whether the gaps are regular."""

    occurrences: list[datetime]
    period_hours: float | None
    regular: bool


def occurrences(times: Iterable[datetime]) -> list[datetime]:
    """The first time of each burst of failures, oldest first."""
    starts: list[datetime] = []
    last: datetime | None = None
    for when in sorted(times):
        if last is None or when - last > BURST:
            starts.append(when)
        last = when
    return starts


def estimate(times: Iterable[datetime]) -> Cadence:
    """Median gap between occurrences; regular when there are at least three occurrences and at
    least two thirds of the gaps (two at least) lie within ``TOLERANCE`` of the median.

    One gap may be off: once a sign-in frequency expires, the broker keeps failing until the user
    signs in, so the newest failure often follows the previous one after a short gap.
    """
    starts = occurrences(times)
    if len(starts) < 2:
        return Cadence(occurrences=starts, period_hours=None, regular=False)
    gaps = [(b - a).total_seconds() / 3600 for a, b in pairwise(starts)]
    period = median(gaps)
    fitting = [gap for gap in gaps if abs(gap - period) <= TOLERANCE * period]
    regular = len(starts) >= MIN_OCCURRENCES and len(fitting) >= max(2, ceil(2 * len(gaps) / 3))
    if regular:
        period = median(fitting)
    return Cadence(occurrences=starts, period_hours=round(period, 2), regular=regular)
