"""The working-day calendar (行政许可法 art. 82: periods are working days).

Days default to Monday–Friday; ``CalendarDay`` rows record the exceptions of an official schedule
(holidays on weekdays, make-up workdays at weekends). A year without a ``CalendarYear`` row has no
official schedule yet: weekdays count except the statutory holidays that the law itself fixes
(``statutory_holidays``), and every result touching such a year is marked provisional, to be
recomputed when the schedule is entered (see ``schedule_published``): only the State Council's
调休 make-up workdays and the 补假 for holidays falling on a weekend remain unknown until then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from threading import Lock, local

from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from .models import CalendarDay, CalendarYear

# Sent on commit with ``year`` when an official schedule is added or changed (see
# ``yiwang.core.services.publish_schedule``), so that provisional due dates get recomputed.
schedule_published = Signal()

_lock = Lock()
_cache: dict | None = None
_pinned = local()


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
    snapshot = getattr(_pinned, "snapshot", None)
    if snapshot is not None:
        return snapshot
    version = _version()
    with _lock:
        if _cache is None or _cache["version"] != version:
            _cache = {
                "version": version,
                "years": set(CalendarYear.objects.values_list("year", flat=True)),
                "days": dict(CalendarDay.objects.values_list("date", "is_workday")),
            }
        return _cache


@contextmanager
def pinned() -> Iterator[None]:
    """Inside the block this thread counts with the snapshot taken when it began, without asking the
    tables whether they changed: one look at them for a batch that computes many dates (the deadline
    sweep, load data) instead of one per date."""
    if getattr(_pinned, "snapshot", None) is not None:
        yield
        return
    _pinned.snapshot = _load()
    try:
        yield
    finally:
        _pinned.snapshot = None


def invalidate() -> None:
    global _cache
    with _lock:
        _cache = None


@receiver([post_save, post_delete], sender=CalendarDay)
@receiver([post_save, post_delete], sender=CalendarYear)
def _calendar_changed(sender, **kwargs) -> None:
    invalidate()


# 全国年节及纪念日放假办法: the days off for every citizen, by the version in force in a year (days
# for part of the citizens, such as 妇女节, do not stop an administrative clock). A holiday is
# (name, kind, days): solar (month, day), lunar (month, day) with EVE for 除夕, or solar terms.
SOLAR, LUNAR, TERM = "solar", "lunar", "term"
EVE = (12, 0)  # 除夕: the last day of the twelfth lunar month, 29th or 30th
_NEW_YEAR = ("元旦", SOLAR, ((1, 1),))
_QINGMING = ("清明节", TERM, ("清明",))
_DRAGON_BOAT = ("端午节", LUNAR, ((5, 5),))
_MID_AUTUMN = ("中秋节", LUNAR, ((8, 15),))
_NATIONAL_DAY = ("国庆节", SOLAR, ((10, 1), (10, 2), (10, 3)))
_STATUTORY_RULES: tuple[tuple[int, tuple], ...] = (  # (first year in force, holidays)
    # 1999 amendment (国务院令第270号)
    (2000, (_NEW_YEAR, ("春节", LUNAR, ((1, 1), (1, 2), (1, 3))), ("劳动节", SOLAR, ((5, 1), (5, 2), (5, 3))),
            _NATIONAL_DAY)),
    # 2007 amendment (国务院令第513号): 劳动节 one day; 除夕, 清明, 端午 and 中秋 become holidays
    (2008, (_NEW_YEAR, ("春节", LUNAR, (EVE, (1, 1), (1, 2))), _QINGMING, ("劳动节", SOLAR, ((5, 1),)),
            _DRAGON_BOAT, _MID_AUTUMN, _NATIONAL_DAY)),
    # 2013 amendment (国务院令第644号): 春节 正月初一至初三 instead of 除夕至初二
    (2014, (_NEW_YEAR, ("春节", LUNAR, ((1, 1), (1, 2), (1, 3))), _QINGMING, ("劳动节", SOLAR, ((5, 1),)),
            _DRAGON_BOAT, _MID_AUTUMN, _NATIONAL_DAY)),
    # 2024 amendment (国务院令第795号): 春节 除夕至初三, 劳动节 5月1日、2日
    (2025, (_NEW_YEAR, ("春节", LUNAR, (EVE, (1, 1), (1, 2), (1, 3))), _QINGMING, ("劳动节", SOLAR, ((5, 1), (5, 2))),
            _DRAGON_BOAT, _MID_AUTUMN, _NATIONAL_DAY)),
)  # fmt: skip


def _lunar_to_solar(year: int, month: int, day: int) -> dt.date:
    from lunar_python import Lunar

    if (month, day) == EVE:  # 除夕: the eve of the lunar new year that falls in ``year``
        solar = Lunar.fromYmd(year, 1, 1).next(-1).getSolar()
    else:
        solar = Lunar.fromYmd(year, month, day).getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def _solar_term(year: int, name: str) -> dt.date:
    from lunar_python import Solar

    solar = Solar.fromYmd(year, 6, 1).getLunar().getJieQiTable()[name]
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> tuple[ScheduleDay, ...]:
    """The days off that the law fixes for ``year`` (weekends included), one per date in date order;
    empty before 2000.

    This is what any official schedule of the year must contain; it is counted for years whose
    schedule is not published yet. Lunar dates and the solar term 清明 come from ``lunar-python``.
    """
    holidays = next((rules for first, rules in reversed(_STATUTORY_RULES) if year >= first), ())
    names: dict[dt.date, list[str]] = {}
    for name, kind, values in holidays:
        for value in values:
            if kind == LUNAR:
                date = _lunar_to_solar(year, *value)
            elif kind == TERM:
                date = _solar_term(year, value)
            else:
                date = dt.date(year, *value)
            names.setdefault(date, []).append(name)  # 中秋 can fall on 10-01 (2020): one day, both names
    return tuple(ScheduleDay(date, False, "、".join(names[date])) for date in sorted(names))


@lru_cache(maxsize=256)
def _statutory_dates(year: int) -> frozenset[dt.date]:
    return frozenset(day.date for day in statutory_holidays(year))


def _is_workday(snapshot: dict, day: dt.date) -> bool:
    override = snapshot["days"].get(day)
    if override is not None:
        return override
    if day.weekday() >= 5:
        return False
    # without an official schedule, the law's own holidays still stop the clock
    return day.year in snapshot["years"] or day not in _statutory_dates(day.year)


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


def working_days_since(starts: Iterable[dt.date], end: dt.date) -> dict[dt.date, int]:
    """``working_days_between(start, end)`` for many starts at once, from one calendar snapshot (one
    look at the tables for a whole list, e.g. the days overdue of every case on a page)."""
    snapshot = _load()
    out: dict[dt.date, int] = {}
    for start in set(starts):
        lo, hi, sign = (start, end, 1) if end >= start else (end, start, -1)
        count, current = 0, lo
        while current < hi:
            current += dt.timedelta(days=1)
            count += _is_workday(snapshot, current)
        out[start] = sign * count
    return out


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
