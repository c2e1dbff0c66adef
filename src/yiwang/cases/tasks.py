"""Background work of the cases app (huey; run by ``yiwang worker`` or inside ``yiwang serve``).

- ``sweep_deadlines`` every 15 minutes: deems accepted the cases nobody accepted in time (行政许可法
  art. 32), then stores the warning levels that changed (set-based, ``services/sweep.py``) and sends
  each responsible staff member one digest of the cases that rose.
- ``recompute_due_dates_task``: queued (on commit) when an official holiday schedule is published, so
  that provisional due dates become final.
"""

from __future__ import annotations

import logging

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services

log = logging.getLogger("yiwang.cases")


@db_periodic_task(crontab(minute="*/15"))
def sweep_deadlines() -> dict:
    deemed = services.deem_overdue_acceptances()
    levels = services.refresh_warnings()
    if deemed or any(levels.values()):
        log.info("deadline sweep: %d deemed accepted, warnings changed %s", len(deemed), levels)
    return {"deemed_accepted": deemed, "warnings": levels}


@db_task()
def recompute_due_dates_task() -> int:
    return services.recompute_due_dates()


def on_schedule_published(sender=None, year: int | None = None, **kwargs) -> None:
    transaction.on_commit(recompute_due_dates_task)
