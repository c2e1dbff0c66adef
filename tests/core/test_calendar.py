"""Working days (行政许可法 art. 82) across official holidays, 调休 make-up days and unknown years."""

import datetime as dt

import pytest
from django.db import connection
from django.dispatch import receiver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yiwang.core import audit
from yiwang.core.calendar import (
    ScheduleDay,
    WorkingDate,
    add_working_days,
    is_official,
    is_workday,
    schedule_published,
    working_days_between,
)
from yiwang.core.errors import InvalidInput
from yiwang.core.models import CalendarDay, CalendarYear
from yiwang.core.services import publish_schedule

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def published():
    """Collects the years announced by schedule_published."""
    years: list[int] = []

    @receiver(schedule_published)
    def listen(sender, year, **kwargs):
        years.append(year)

    yield years
    schedule_published.disconnect(listen)


def test_seeded_years_come_from_chinese_calendar_and_2027_is_unknown():
    assert is_official(2025) and is_official(2026)
    assert not is_official(2027)
    assert CalendarYear.objects.get(year=2026).source == "chinese-calendar"
    assert CalendarDay.objects.get(date=D(2026, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=D(2026, 10, 10)).name == "国庆节调休上班"


def test_national_day_2025():
    assert not is_workday(D(2025, 10, 8))
    assert is_workday(D(2025, 9, 28))  # Sunday, 调休上班
    assert is_workday(D(2025, 10, 11))  # Saturday, 调休上班
    assert add_working_days(D(2025, 9, 30), 1) == WorkingDate(D(2025, 10, 9), False)
    assert add_working_days(D(2025, 9, 26), 1) == WorkingDate(D(2025, 9, 28), False)
    assert working_days_between(D(2025, 9, 30), D(2025, 10, 13)) == (4, False)


def test_national_day_and_mid_autumn_2026():
    assert add_working_days(D(2026, 9, 18), 1).date == D(2026, 9, 20)  # Sunday make-up day
    assert add_working_days(D(2026, 9, 30), 1).date == D(2026, 10, 8)
    assert add_working_days(D(2026, 9, 30), 3).date == D(2026, 10, 10)  # Saturday make-up day
    # a 20-working-day statutory limit from an acceptance on Tuesday 15 September 2026
    assert add_working_days(D(2026, 9, 15), 20) == WorkingDate(D(2026, 10, 19), False)
    assert working_days_between(D(2026, 9, 15), D(2026, 10, 19)) == (20, False)


def test_spring_festival_2026():
    assert add_working_days(D(2026, 2, 13), 1).date == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 14), 1).date == D(2026, 2, 24)
    assert working_days_between(D(2026, 2, 13), D(2026, 3, 2)) == (7, False)


def test_zero_and_negative_counts():
    assert add_working_days(D(2026, 10, 3), 0) == WorkingDate(D(2026, 10, 3), False)
    assert add_working_days(D(2026, 10, 12), -1).date == D(2026, 10, 10)
    assert working_days_between(D(2026, 10, 12), D(2026, 9, 30)) == (-4, False)
    assert working_days_between(D(2026, 10, 12), D(2026, 10, 12)) == (0, False)


def test_year_without_official_schedule_counts_weekdays_and_is_provisional():
    assert add_working_days(D(2026, 12, 30), 3) == WorkingDate(D(2027, 1, 4), True)
    assert add_working_days(D(2027, 9, 30), 1) == WorkingDate(D(2027, 10, 1), True)  # a Friday, a holiday later
    assert working_days_between(D(2027, 3, 1), D(2027, 3, 8)) == (5, True)
    assert add_working_days(D(2026, 12, 1), 5).provisional is False


def test_publishing_2027_makes_due_dates_official_and_announces_the_year(published, django_capture_on_commit_callbacks):
    assert add_working_days(D(2026, 12, 30), 3) == WorkingDate(D(2027, 1, 4), True)
    with django_capture_on_commit_callbacks(execute=True):
        publish_schedule(
            2027,
            [
                ScheduleDay(D(2027, 1, 1), False, "元旦"),
                ScheduleDay(D(2027, 10, 1), False, "国庆节"),
                (D(2027, 10, 9), True, "国庆节调休上班"),
            ],
            "国务院办公厅关于2027年部分节假日安排的通知",
            actor="admin",
        )
        assert published == []  # nothing announced before commit
    assert published == [2027]
    assert is_official(2027)
    assert add_working_days(D(2026, 12, 30), 3) == WorkingDate(D(2027, 1, 5), False)
    assert is_workday(D(2027, 10, 9)) and not is_workday(D(2027, 10, 1))
    event = audit.history(("core.calendaryear", 2027)).get()
    assert event.action == "schedule_published" and event.actor == "admin"
    assert event.data["holidays"] == 2 and event.data["workdays"] == 1


def test_republishing_replaces_the_days_and_records_what_changed(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish_schedule(2027, [(D(2027, 1, 1), False, "元旦"), (D(2027, 2, 5), False, "春节")], "v1")
        publish_schedule(2027, [(D(2027, 1, 1), False, "元旦"), (D(2027, 2, 8), False, "春节")], "v2")
    assert published == [2027, 2027]
    assert sorted(CalendarDay.objects.filter(year=2027).values_list("date", flat=True)) == [
        D(2027, 1, 1),
        D(2027, 2, 8),
    ]
    assert CalendarYear.objects.get(year=2027).source == "v2"
    last = audit.history(("core.calendaryear", 2027)).last()
    assert last.action == "schedule_changed"
    assert last.data["changed_dates"] == ["2027-02-05", "2027-02-08"]


def test_invalid_schedule_writes_nothing_and_announces_nothing(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidInput) as exc:
        publish_schedule(
            2027,
            [(D(2027, 1, 1), False, "元旦"), (D(2028, 1, 1), False, "元旦"), (D(2027, 1, 1), False, "元旦")],
            "x",
        )
    assert exc.value.message == "2027 年节假日安排有 2 处错误，未保存。"
    assert exc.value.errors == ["2028-01-01 不在 2027 年内。", "2027-01-01 重复出现。"]
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert published == []


def test_a_schedule_entered_by_another_process_is_noticed():
    assert not is_official(2027)  # loads this process's snapshot
    with connection.cursor() as cursor:  # no signal reaches this process, as with a second server
        cursor.execute(
            "INSERT INTO core_calendaryear (year, source, published_at, updated_at) VALUES (%s, %s, %s, %s)",
            [2027, "other", dt.datetime(2026, 11, 20, tzinfo=dt.UTC), dt.datetime(2026, 11, 20, tzinfo=dt.UTC)],
        )
        cursor.execute(
            "INSERT INTO core_calendarday (date, year_id, is_workday, name) VALUES (%s, %s, %s, %s)",
            [D(2027, 1, 1), 2027, False, "元旦"],
        )
    assert is_official(2027)
    assert not is_workday(D(2027, 1, 1))


starts = st.dates(min_value=D(2024, 1, 1), max_value=D(2027, 12, 31))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=starts, n=st.integers(min_value=0, max_value=60))
def test_add_working_days_and_working_days_between_are_inverse(start, n):
    result = add_working_days(start, n)
    count, provisional = working_days_between(start, result.date)
    assert count == n
    assert provisional == result.provisional
    if n > 0:
        assert is_workday(result.date)
        # the earliest such day: one day earlier, one working day is still missing
        assert working_days_between(start, result.date - dt.timedelta(days=1))[0] == n - 1
        assert result.provisional == (result.date.year >= 2027)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=starts, end=starts)
def test_working_days_between_is_antisymmetric_and_adds_up(start, end):
    forward, _ = working_days_between(start, end)
    backward, _ = working_days_between(end, start)
    assert forward == -backward
    middle = min(start, end) + (max(start, end) - min(start, end)) / 2
    lo, hi = min(start, end), max(start, end)
    assert working_days_between(lo, middle)[0] + working_days_between(middle, hi)[0] == abs(forward)
