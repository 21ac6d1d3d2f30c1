"""Cadence estimation: bursts collapse into occurrences, regular gaps give a period."""

from datetime import UTC, datetime, timedelta
from statistics import median

from hypothesis import given
from hypothesis import strategies as st

from odfix.diagnosis.cadence import BURST, TOLERANCE, estimate, occurrences

START = datetime(2026, 1, 8, 8, 0, tzinfo=UTC)


def test_daily_prompts_are_regular_with_a_24_hour_period():
    times = [START + timedelta(days=d, minutes=m) for d in range(5) for m in (0, 1)]
    found = estimate(times)
    assert found.regular
    assert found.period_hours is not None and abs(found.period_hours - 24) < 0.1
    assert len(found.occurrences) == 5


def test_burst_within_ten_minutes_is_one_occurrence():
    assert occurrences([START, START + timedelta(minutes=9), START + BURST * 2]) == [
        START, START + BURST * 2]


def test_irregular_gaps_are_not_a_cadence():
    times = [START, START + timedelta(hours=2), START + timedelta(hours=30),
             START + timedelta(hours=31)]
    assert not estimate(times).regular


def test_two_occurrences_give_a_gap_but_no_cadence():
    found = estimate([START, START + timedelta(hours=24)])
    assert found.period_hours == 24 and not found.regular


@given(st.lists(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),
                             timezones=st.just(UTC)), max_size=40))
def test_estimate_is_consistent_on_any_times(times):
    found = estimate(times)
    assert found.occurrences == sorted(found.occurrences)
    assert len(found.occurrences) <= len(times)
    if found.regular:
        assert found.period_hours is not None and found.period_hours > 0
        gaps = [(b - a).total_seconds() / 3600
                for a, b in zip(found.occurrences, found.occurrences[1:], strict=False)]
        middle = median(gaps)
        near = [g for g in gaps if abs(g - middle) <= TOLERANCE * middle]
        assert len(found.occurrences) >= 3 and len(near) * 3 >= 2 * len(gaps)
        assert min(near) - 0.01 <= found.period_hours <= max(near) + 0.01


def test_the_newest_retry_after_a_short_gap_keeps_the_cadence():
    hours_ago = [78, 54, 30.5, 6.5, 0]
    found = estimate(START - timedelta(hours=h) for h in hours_ago)
    assert found.regular and found.period_hours == 24
