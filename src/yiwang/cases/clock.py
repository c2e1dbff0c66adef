"""The case clock: time limits in working days (行政许可法 art. 82) by the platform calendar.

- Acceptance: a submitted case must be accepted, refused or sent back for correction within
  ``acceptance_days`` working days after submission (``Case.acceptance_due``); after that it is deemed
  accepted as of the submission day (art. 32).
- Decision: ``due_date = add_working_days(clock_start, promised_days + paused working days + approved
  extension days)``, where ``clock_start`` is the acceptance day. A pause (correction after acceptance,
  special procedure) stops the clock for the working days in (start day, end day]; an open pause
  counts up to today, so the due date of a suspended case moves with it and it never turns red.
- Warning: red when today is past the due date, yellow when 80 % of the allowed working days are used.
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


def paused_working_days(case: Case, on: dt.date | None = None) -> tuple[int, bool]:
    """Working days the decision clock stood still, counting open pauses up to ``on`` (default today)."""
    on = on or today()
    total, provisional = 0, False
    for pause in ClockPause.objects.filter(case=case).only("started_at", "ended_at"):
        start = local_date(pause.started_at)
        end = local_date(pause.ended_at) if pause.ended_at else on
        if end > start:
            days, prov = working_days_between(start, end)
            total += days
            provisional |= prov
    return total, provisional


def extension_days(case: Case) -> int:
    return sum(Extension.objects.filter(case=case, status=Extension.State.APPROVED).values_list("days", flat=True))


def allowed_days(case: Case) -> int:
    """Working days allowed for the decision: the promised limit plus approved extensions."""
    return case.version.promised_days + extension_days(case)


def decision_due(case: Case, on: dt.date | None = None) -> Due:
    if case.clock_start is None:
        return Due(None, False)
    paused, prov_paused = paused_working_days(case, on)
    wd = add_working_days(case.clock_start, allowed_days(case) + paused)
    return Due(wd.date, wd.provisional or prov_paused)


def warning_level(case: Case, on: dt.date | None = None) -> str:
    """The warning of an open case from its stored due dates (call after refreshing them)."""
    on = on or today()
    if case.status == Status.SUBMITTED and case.acceptance_due and case.submitted_at:
        start, due, allowed, paused = (
            local_date(case.submitted_at),
            case.acceptance_due,
            case.version.acceptance_days,
            0,
        )
    elif case.status in REVIEW_STATES and case.due_date and case.clock_start:
        start, due, allowed = case.clock_start, case.due_date, allowed_days(case)
        paused = paused_working_days(case, on)[0]
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
