"""The wire's timestamps: ISO 8601 in UTC with a Z suffix, to the second (contract, "Timestamps")."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from openregister.schemas.base import isoformat

offsets = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60))
# Aware values whose UTC time is still a datetime (year 1 to 9999).
aware = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets)


@given(st.datetimes())
def test_a_naive_value_is_utc_cut_to_the_second(value):
    v = value
    assert isoformat(v) == f"{v.year:04}-{v.month:02}-{v.day:02}T{v.hour:02}:{v.minute:02}:{v.second:02}Z"
    assert datetime.fromisoformat(isoformat(value)[:-1]) == value.replace(microsecond=0)


@given(aware)
def test_an_aware_value_is_given_in_utc(value):
    assert isoformat(value) == isoformat(value.astimezone(UTC).replace(tzinfo=None))
    assert datetime.fromisoformat(isoformat(value)) == value.replace(microsecond=0)
