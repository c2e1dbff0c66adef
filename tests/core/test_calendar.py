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
    statutory_holidays,
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


def test_year_without_official_schedule_counts_weekdays_less_statutory_holidays_and_is_provisional():
    # 2027-01-01 (元旦) is a Friday: 12-31, 1-4, 1-5
    assert add_working_days(D(2026, 12, 30), 3) == WorkingDate(D(2027, 1, 5), True)
    assert add_working_days(D(2027, 9, 30), 1) == WorkingDate(D(2027, 10, 4), True)  # 国庆节 Friday 10-1
    assert working_days_between(D(2027, 3, 1), D(2027, 3, 8)) == (5, True)
    assert add_working_days(D(2026, 12, 1), 5).provisional is False


def test_statutory_holidays_of_2027_by_the_2024_amendment():
    days = {day.date: day.name for day in statutory_holidays(2027)}
    assert days == {
        D(2027, 1, 1): "元旦",
        D(2027, 2, 5): "春节",  # 除夕
        D(2027, 2, 6): "春节",  # 正月初一
        D(2027, 2, 7): "春节",
        D(2027, 2, 8): "春节",  # 正月初三
        D(2027, 4, 5): "清明节",  # the solar term
        D(2027, 5, 1): "劳动节",
        D(2027, 5, 2): "劳动节",
        D(2027, 6, 9): "端午节",  # 五月初五
        D(2027, 9, 15): "中秋节",  # 八月十五
        D(2027, 10, 1): "国庆节",
        D(2027, 10, 2): "国庆节",
        D(2027, 10, 3): "国庆节",
    }
    # weekdays among them stop the provisional clock; Saturday 2-6 and Sunday 2-7 are weekends anyway
    assert [d for d in days if is_workday(d)] == []
    assert working_days_between(D(2027, 2, 4), D(2027, 2, 10)) == (2, True)  # 2-9, 2-10
    assert add_working_days(D(2027, 6, 8), 1) == WorkingDate(D(2027, 6, 10), True)
    assert add_working_days(D(2027, 9, 14), 1) == WorkingDate(D(2027, 9, 16), True)


def test_earlier_versions_of_the_rule():
    assert [d.date for d in statutory_holidays(2024) if d.name == "春节"] == [
        D(2024, 2, 10),
        D(2024, 2, 11),
        D(2024, 2, 12),
    ]
    assert [d.date for d in statutory_holidays(2024) if d.name == "劳动节"] == [D(2024, 5, 1)]
    assert [d.date for d in statutory_holidays(2010) if d.name == "春节"] == [
        D(2010, 2, 13),
        D(2010, 2, 14),
        D(2010, 2, 15),
    ]
    assert statutory_holidays(2020)[-3].name == "中秋节、国庆节"  # one day, 2020-10-01
    assert {d.name for d in statutory_holidays(2005)} == {"元旦", "春节", "劳动节", "国庆节"}
    assert statutory_holidays(1999) == ()


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_official_schedule_contains_every_statutory_holiday(year):
    from chinese_calendar.constants import holidays

    rule = statutory_holidays(year)
    assert len(rule) == 13
    assert [day.date for day in rule if day.date not in holidays] == []
    weekdays = {day.date for day in rule if day.date.weekday() < 5}
    assert (
        set(CalendarDay.objects.filter(date__in=weekdays, is_workday=False).values_list("date", flat=True)) == weekdays
    )


def test_no_statutory_holiday_was_ever_a_working_day_in_an_official_schedule():
    years = sorted(CalendarYear.objects.values_list("year", flat=True))
    assert years[0] <= 2004 and years[-1] >= 2026
    working = [day.date for year in years for day in statutory_holidays(year) if is_workday(day.date)]
    assert working == []


def test_publishing_2027_makes_due_dates_official_and_announces_the_year(published, django_capture_on_commit_callbacks):
    assert add_working_days(D(2026, 12, 30), 3) == WorkingDate(D(2027, 1, 5), True)
    assert add_working_days(D(2027, 10, 8), 1) == WorkingDate(D(2027, 10, 11), True)
    with django_capture_on_commit_callbacks(execute=True):
        publish_schedule(
            2027,
            [
                ScheduleDay(D(2027, 1, 1), False, "元旦"),
                ScheduleDay(D(2027, 1, 4), False, "元旦"),
                ScheduleDay(D(2027, 10, 1), False, "国庆节"),
                (D(2027, 10, 9), True, "国庆节调休上班"),
            ],
            "国务院办公厅关于2027年部分节假日安排的通知",
            actor="admin",
        )
        assert published == []  # nothing announced before commit
    assert published == [2027]
    assert is_official(2027)
    assert add_working_days(D(2026, 12, 30), 3) == WorkingDate(D(2027, 1, 6), False)
    assert add_working_days(D(2027, 10, 8), 1) == WorkingDate(D(2027, 10, 9), False)  # the make-up Saturday
    assert is_workday(D(2027, 10, 9)) and not is_workday(D(2027, 10, 1))
    event = audit.history(("core.calendaryear", 2027)).get()
    assert event.action == "schedule_published" and event.actor == "admin"
    assert event.data["holidays"] == 3 and event.data["workdays"] == 1


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
        assert result.date not in statutory_dates(result.date.year)


def statutory_dates(year: int) -> set[dt.date]:
    return {day.date for day in statutory_holidays(year)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    year=st.integers(min_value=2027, max_value=2099),
    start=st.dates(min_value=D(2026, 12, 1), max_value=D(2099, 12, 31)),
)
def test_no_statutory_holiday_of_a_provisional_year_is_a_working_day(year, start):
    holidays = statutory_holidays(year)
    names = [name for day in holidays for name in day.name.split("、")]  # 中秋 may fall on 10-01: one day
    assert len(names) == 13
    assert set(names) == {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}
    assert not any(is_workday(day.date) for day in holidays)
    # no count of working days from any start ever lands on one, and each is skipped
    for n in (1, 5, 20):
        assert add_working_days(start, n).date not in statutory_dates(add_working_days(start, n).date.year)
    for day in holidays:
        before = day.date - dt.timedelta(days=1)
        assert working_days_between(before, day.date) == (0, True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=starts, end=starts)
def test_working_days_between_is_antisymmetric_and_adds_up(start, end):
    forward, _ = working_days_between(start, end)
    backward, _ = working_days_between(end, start)
    assert forward == -backward
    middle = min(start, end) + (max(start, end) - min(start, end)) / 2
    lo, hi = min(start, end), max(start, end)
    assert working_days_between(lo, middle)[0] + working_days_between(middle, hi)[0] == abs(forward)
