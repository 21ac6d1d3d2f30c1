"""Cadence estimation: bursts collapse into occurrences, regular gaps give a period."""

from datetime import UTC, datetime, timedelta

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
        assert all(abs(g - found.period_hours) <= TOLERANCE * found.period_hours + 0.01
                   for g in gaps)
