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

from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from .models import CalendarDay, CalendarYear

# Sent on commit with ``year`` when an official schedule is added or changed (see
# ``yiwang.core.services.publish_schedule``), so that provisional due dates get recomputed.
schedule_published = Signal()

_lock = Lock()
_cache: dict | None = None


@dataclass(frozen=True)
class ScheduleDay:
    """One line of an official schedule: a holiday (``is_workday=False``) or a make-up workday."""

    date: dt.date
    is_workday: bool
    name: str = ""


@dataclass(frozen=True)
class WorkingDate:
    date: dt.date
    provisional: bool  # True when a year without an official schedule was crossed


def _version() -> tuple:
    """A cheap fingerprint of the calendar tables, so that a process notices another one's changes."""
    agg = CalendarYear.objects.aggregate(years=Count("year", distinct=True), last=Max("updated_at"), days=Count("days"))
    return agg["years"], agg["last"], agg["days"]


def _load() -> dict:
    """The calendar snapshot, reloaded when the tables changed (in this process or another one)."""
    global _cache
    version = _version()
    with _lock:
        if _cache is None or _cache["version"] != version:
            _cache = {
                "version": version,
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


def _is_workday(snapshot: dict, day: dt.date) -> bool:
    override = snapshot["days"].get(day)
    if override is not None:
        return override
    return day.weekday() < 5


def is_workday(day: dt.date) -> bool:
    return _is_workday(_load(), day)


def is_official(year: int) -> bool:
    """Whether the official schedule of ``year`` has been entered."""
    return year in _load()["years"]


def add_working_days(start: dt.date, days: int) -> WorkingDate:
    """The date on which ``days`` working days have elapsed after ``start`` (``start`` not counted).

    For ``days != 0`` the result is a working day; ``days == 0`` gives ``start`` itself. Negative
    counts go backwards. ``provisional`` is True when a day of a year without official schedule was counted.
    """
    snapshot = _load()
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = start
    provisional = False
    while remaining:
        current += dt.timedelta(days=step)
        provisional |= current.year not in snapshot["years"]
        if _is_workday(snapshot, current):
            remaining -= 1
    return WorkingDate(current, provisional)


def working_days_between(start: dt.date, end: dt.date) -> tuple[int, bool]:
    """Working days in the half-open interval (start, end]; negative when end < start.

    Returns (count, provisional). ``add_working_days(start, n).date`` is the earliest ``end`` with
    count ``n``.
    """
    if end == start:
        return 0, False
    snapshot = _load()
    sign = 1 if end > start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    count = 0
    provisional = False
    current = lo
    while current < hi:
        current += dt.timedelta(days=1)
        provisional |= current.year not in snapshot["years"]
        if _is_workday(snapshot, current):
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

    Only exceptions to the weekday rule become day rows; rows already present are updated. The model
    arguments let a data migration pass its historical models.
    """
    # the package's own tables: its is_workday() scans them on every call, far too slow for 8,000 days
    from chinese_calendar.constants import holidays, workdays
    from django.db import transaction

    known = {d.year for d in holidays} | {d.year for d in workdays}
    exceptions: dict[int, dict[dt.date, tuple[bool, str]]] = {}
    for date, name in holidays.items():
        if date.weekday() < 5:
            exceptions.setdefault(date.year, {})[date] = (False, HOLIDAY_NAMES.get(name, name))
    for date, name in workdays.items():
        if date.weekday() >= 5:
            exceptions.setdefault(date.year, {})[date] = (True, HOLIDAY_NAMES.get(name, name) + "调休上班")

    loaded: list[int] = []
    years = years or range(2004, dt.date.today().year + 2)
    with transaction.atomic():
        for year in years:
            if year not in known:
                continue
            year_row, _ = year_model.objects.update_or_create(year=year, defaults={"source": "chinese-calendar"})
            wanted = exceptions.get(year, {})
            existing = {d.date: d for d in day_model.objects.filter(date__in=list(wanted))}
            changed = []
            for date, (official, name) in wanted.items():
                row = existing.get(date)
                if row and (row.year_id, row.is_workday, row.name) != (year, official, name):
                    row.year, row.is_workday, row.name = year_row, official, name
                    changed.append(row)
            day_model.objects.bulk_update(changed, ["year", "is_workday", "name"])
            day_model.objects.bulk_create(
                day_model(date=date, year=year_row, is_workday=official, name=name)
                for date, (official, name) in wanted.items()
                if date not in existing
            )
            loaded.append(year)
    invalidate()
    return loaded
