"""Use cases of the platform core: publishing a year's official holiday schedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from . import audit
from .calendar import ScheduleDay, invalidate, schedule_published
from .errors import InvalidInput
from .models import CalendarDay, CalendarYear

MIN_YEAR, MAX_YEAR = 2000, 2100
NAME_MAX = CalendarDay._meta.get_field("name").max_length


def _as_day(item: ScheduleDay | tuple) -> ScheduleDay:
    return item if isinstance(item, ScheduleDay) else ScheduleDay(*item)


def publish_schedule(year: int, days: Iterable[ScheduleDay | tuple], source: str, *, actor=None) -> CalendarYear:
    """Enter (or replace) the official schedule of ``year``: its holidays and make-up workdays.

    The year and all its days are written in one transaction; the previous days of that year are
    replaced. Once committed, ``schedule_published`` is sent with ``year=`` so that due dates that
    were computed provisionally get recomputed. Raises InvalidInput (nothing written) when a day lies
    outside the year, appears twice or has too long a name.
    """
    days = [_as_day(d) for d in days]
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(
            _("年份 %(y)s 不在 %(a)d–%(b)d 之间。") % {"y": year, "a": MIN_YEAR, "b": MAX_YEAR}, field="year"
        )
    errors: list[str] = []
    seen: set[dt.date] = set()
    for day in days:
        if day.date.year != year:
            errors.append(_("%(d)s 不在 %(y)d 年内。") % {"d": day.date.isoformat(), "y": year})
        if day.date in seen:
            errors.append(_("%(d)s 重复出现。") % {"d": day.date.isoformat()})
        seen.add(day.date)
        if len(day.name) > NAME_MAX:
            errors.append(_("%(d)s 的名称超过 %(n)d 个字。") % {"d": day.date.isoformat(), "n": NAME_MAX})
    if errors:
        raise InvalidInput(
            _("%(y)d 年节假日安排有 %(n)d 处错误，未保存。") % {"y": year, "n": len(errors)},
            field="days",
            errors=errors,
        )

    with transaction.atomic():
        previous = {
            d.date: (d.is_workday, d.name) for d in CalendarDay.objects.select_for_update().filter(year_id=year)
        }
        row, created = CalendarYear.objects.update_or_create(year=year, defaults={"source": source})
        CalendarDay.objects.filter(year=row).delete()
        CalendarDay.objects.bulk_create(
            CalendarDay(date=d.date, year=row, is_workday=d.is_workday, name=d.name) for d in days
        )
        current = {d.date: (d.is_workday, d.name) for d in days}
        changed = sorted(d.isoformat() for d in set(previous) | set(current) if previous.get(d) != current.get(d))
        audit.record(
            ("core.calendaryear", year),
            "schedule_published" if created else "schedule_changed",
            actor=actor,
            data={
                "source": source,
                "holidays": sum(1 for d in days if not d.is_workday),
                "workdays": sum(1 for d in days if d.is_workday),
                "changed_dates": changed,
            },
        )
        transaction.on_commit(invalidate)
        transaction.on_commit(lambda: schedule_published.send(sender=CalendarYear, year=year))
    return row
