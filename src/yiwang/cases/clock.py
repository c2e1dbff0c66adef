"""The case clock: time limits in working days (行政许可法 art. 82) by the platform calendar.

- Acceptance: a submitted case must be accepted, refused or sent back for correction within
  ``acceptance_days`` working days after submission (``Case.acceptance_due``); after that it is deemed
  accepted as of the submission day (art. 32).
- Decision: ``due_date = add_working_days(clock_start, promised_days + paused working days + approved
  extension days)``, where ``clock_start`` is the acceptance day. A pause (correction after acceptance,
  special procedure) stops the clock for the working days in (start day, end day]; an open pause
  counts up to today, so the due date of a suspended case moves with it and it never turns red.
- Warning: red when today is past the due date, yellow when 80 % of the allowed working days are used.
  ``Case.yellow_on`` stores the day the running clock reaches that share (``yellow_day``), so that the
  sweep decides in SQL: red when due < today, yellow when yellow_on <= today <= due. While a pause
  is open the clock stands still and the due date moves each working day: those cases are computed
  here one by one (few), from rows read in bulk (``pauses`` / ``extension`` arguments).
- Stages: a task's own limit is its stage's ``time_share`` % of the promised days, from the day
  its step started.

Everything here only computes; ``yiwang.cases.services`` stores the results. A result is provisional
when it crosses a year whose official holiday schedule is not yet known; the services recompute
provisional dates when ``yiwang.core.calendar.schedule_published`` fires (connected in CasesConfig).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.utils import timezone

from yiwang.core.calendar import WorkingDate, add_working_days, working_days_between

from .models import REVIEW_STATES, Case, ClockPause, Extension, Status, WarningLevel

YELLOW_SHARE = 0.8


def local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment else None


def today() -> dt.date:
    return timezone.localdate()


@dataclass(frozen=True)
class Due:
    date: dt.date | None
    provisional: bool


def acceptance_due(case: Case, submitted_on: dt.date) -> Due:
    wd = add_working_days(submitted_on, case.version.acceptance_days)
    return Due(wd.date, wd.provisional)


def paused_working_days(
    case: Case, on: dt.date | None = None, *, pauses: list[ClockPause] | None = None
) -> tuple[int, bool]:
    """Working days the decision clock stood still, counting open pauses up to ``on`` (default today).
    ``pauses``: the case's pauses when the caller read them already (a batch)."""
    on = on or today()
    total, provisional = 0, False
    if pauses is None:
        pauses = list(ClockPause.objects.filter(case=case).only("started_at", "ended_at"))
    for pause in pauses:
        start = local_date(pause.started_at)
        end = local_date(pause.ended_at) if pause.ended_at else on
        if end > start:
            days, prov = working_days_between(start, end)
            total += days
            provisional |= prov
    return total, provisional


def extension_days(case: Case) -> int:
    return sum(Extension.objects.filter(case=case, status=Extension.State.APPROVED).values_list("days", flat=True))


def allowed_days(case: Case, *, extension: int | None = None) -> int:
    """Working days allowed for the decision: the promised limit plus approved extensions
    (``extension``: their sum when the caller read it already)."""
    return case.version.promised_days + (extension_days(case) if extension is None else extension)


def decision_due(
    case: Case, on: dt.date | None = None, *, pauses: list[ClockPause] | None = None, extension: int | None = None
) -> Due:
    if case.clock_start is None:
        return Due(None, False)
    paused, prov_paused = paused_working_days(case, on, pauses=pauses)
    wd = add_working_days(case.clock_start, allowed_days(case, extension=extension) + paused)
    return Due(wd.date, wd.provisional or prov_paused)


def yellow_day(start: dt.date, allowed: int, paused: int, due: dt.date) -> dt.date:
    """The first day on which ``used = working days in (start, day] - paused`` reaches 80 % of
    ``allowed`` (``warning_level``'s yellow test); the day after ``due`` when ``allowed`` is 0."""
    if not allowed:
        return due + dt.timedelta(days=1)
    return add_working_days(start, math.ceil(allowed * YELLOW_SHARE) + paused).date


def yellow_on_of(
    *,
    status: str,
    submitted_on: dt.date | None,
    acceptance_due: dt.date | None,
    acceptance_days: int,
    clock_start: dt.date | None,
    due_date: dt.date | None,
    allowed: int,
    paused: int,
) -> dt.date | None:
    """``Case.yellow_on`` from plain values (also used by the back-fill migration): the acceptance
    clock while submitted (it counts from the submission day), else the decision clock."""
    if status == Status.SUBMITTED:
        if acceptance_due and submitted_on:
            return yellow_day(submitted_on, acceptance_days, 0, acceptance_due)
        return None
    if due_date and clock_start:
        return yellow_day(clock_start, allowed, paused, due_date)
    return None


def yellow_on(
    case: Case, on: dt.date | None = None, *, pauses: list[ClockPause] | None = None, extension: int | None = None
) -> dt.date | None:
    """``yellow_on`` of the case (call after refreshing its due dates); an open pause moves it like the
    due date."""
    submitted = case.status == Status.SUBMITTED
    return yellow_on_of(
        status=case.status,
        submitted_on=local_date(case.submitted_at),
        acceptance_due=case.acceptance_due,
        acceptance_days=case.version.acceptance_days,
        clock_start=case.clock_start,
        due_date=case.due_date,
        allowed=0 if submitted or not case.clock_start else allowed_days(case, extension=extension),
        paused=0 if submitted or not case.clock_start else paused_working_days(case, on, pauses=pauses)[0],
    )


def warning_level(
    case: Case, on: dt.date | None = None, *, pauses: list[ClockPause] | None = None, extension: int | None = None
) -> str:
    """The warning of an open case from its stored due dates (call after refreshing them). This is the
    reference the set-based sweep (``services.refresh_warnings``) must agree with."""
    on = on or today()
    if case.status == Status.SUBMITTED and case.acceptance_due and case.submitted_at:
        start, due, allowed, paused = (
            local_date(case.submitted_at),
            case.acceptance_due,
            case.version.acceptance_days,
            0,
        )
    elif case.status in REVIEW_STATES and case.due_date and case.clock_start:
        start, due, allowed = case.clock_start, case.due_date, allowed_days(case, extension=extension)
        paused = paused_working_days(case, on, pauses=pauses)[0]
    else:
        return WarningLevel.NONE
    if on > due:
        return WarningLevel.RED
    used = working_days_between(start, on)[0] - paused
    if allowed and used >= math.ceil(allowed * YELLOW_SHARE):
        return WarningLevel.YELLOW
    return WarningLevel.NONE


def stage_due(case: Case, time_share: int, step_started: dt.date) -> WorkingDate | None:
    """A task's limit: its share of the promised days (at least one working day), never past the case's due date."""
    if not time_share:
        return None
    days = max(1, round(case.version.promised_days * time_share / 100))
    wd = add_working_days(step_started, days)
    if case.due_date and wd.date > case.due_date:
        return WorkingDate(case.due_date, case.due_provisional)
    return wd


def time_used(case: Case, on: dt.date | None = None) -> dict:
    """Figures for a page or API answer: working days allowed, used, paused, left (may be negative)."""
    on = on or today()
    if case.clock_start is None:
        return {}
    allowed = allowed_days(case)
    paused, _prov = paused_working_days(case, on)
    used = working_days_between(case.clock_start, min(on, local_date(case.decided_at) or on))[0] - paused
    return {"allowed": allowed, "used": used, "paused": paused, "left": allowed - used}
