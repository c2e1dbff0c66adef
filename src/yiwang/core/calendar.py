"""The working-day calendar (行政许可法 art. 82: periods are working days).

Days default to Monday–Friday; ``CalendarDay`` rows record the exceptions of an official schedule
(holidays on weekdays, make-up workdays at weekends). A year without a ``CalendarYear`` row has no
official schedule yet: weekdays count and every result touching it is marked provisional, to be
recomputed when the schedule is entered (see ``schedule_published``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from threading import Lock

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from .models import CalendarDay, CalendarYear

# Sent with ``year`` when an official schedule is added or changed, so that due dates get recomputed.
schedule_published = Signal()

_lock = Lock()
_cache: dict | None = None


@dataclass(frozen=True)
class WorkingDate:
    date: dt.date
    provisional: bool  # True when a year without an official schedule was crossed


def _load() -> dict:
    global _cache
    with _lock:
        if _cache is None:
            _cache = {
                "years": set(CalendarYear.objects.values_list("year", flat=True)),
                "days": dict(CalendarDay.objects.values_list("date", "is_workday")),
            }
        return _cache


def invalidate() -> None:
    global _cache
    with _lock:
        _cache = None


@receiver([post_save, post_delete], sender=CalendarDay)
@receiver([post_save, post_delete], sender=CalendarYear)
def _calendar_changed(sender, **kwargs) -> None:
    invalidate()


def is_workday(day: dt.date) -> bool:
    override = _load()["days"].get(day)
    if override is not None:
        return override
    return day.weekday() < 5


def is_official(year: int) -> bool:
    return year in _load()["years"]


def add_working_days(start: dt.date, days: int) -> WorkingDate:
    """The date on which ``days`` working days have elapsed after ``start`` (``start`` not counted).

    ``days == 0`` gives ``start`` itself. Negative counts go backwards.
    """
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = start
    provisional = False
    while remaining:
        current += dt.timedelta(days=step)
        provisional |= not is_official(current.year)
        if is_workday(current):
            remaining -= 1
    return WorkingDate(current, provisional)


def working_days_between(start: dt.date, end: dt.date) -> tuple[int, bool]:
    """Working days in the half-open interval (start, end]; negative when end < start.

    Returns (count, provisional).
    """
    if end == start:
        return 0, False
    sign = 1 if end > start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    count = 0
    provisional = False
    current = lo
    while current < hi:
        current += dt.timedelta(days=1)
        provisional |= not is_official(current.year)
        if is_workday(current):
            count += 1
    return sign * count, provisional


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def seed_from_package(years: range | None = None, *, day_model=CalendarDay, year_model=CalendarYear) -> list[int]:
    """Load the official schedules that the ``chinese-calendar`` package knows. Returns the years loaded.

    The model arguments let a data migration pass its historical models.
    """
    import chinese_calendar
    from django.db import transaction

    loaded: list[int] = []
    years = years or range(2004, dt.date.today().year + 2)
    with transaction.atomic():
        for year in years:
            try:
                chinese_calendar.is_workday(dt.date(year, 6, 1))
            except NotImplementedError:
                continue
            day = dt.date(year, 1, 1)
            while day.year == year:
                official = chinese_calendar.is_workday(day)
                if official != (day.weekday() < 5):
                    _, name = chinese_calendar.get_holiday_detail(day)
                    label = HOLIDAY_NAMES.get(name or "", name or "")
                    day_model.objects.update_or_create(
                        date=day, defaults={"is_workday": official, "name": label + ("调休上班" if official else "")}
                    )
                day += dt.timedelta(days=1)
            year_model.objects.update_or_create(year=year, defaults={"source": "chinese-calendar"})
            loaded.append(year)
    invalidate()
    return loaded
