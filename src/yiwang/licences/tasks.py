"""Background jobs of the licence library (huey): the daily expiry sweep with reminders, and the
retry of a 同步签发 that failed when the case was decided."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_periodic_task(crontab(hour="1", minute="10"))
def daily_expiry() -> dict[str, int]:
    """Every night: expire licences past their validity, then remind holders 30 days ahead."""
    return {"expired": services.expire_due_licences(), "reminded": services.remind_expiring_licences()}


@db_task(retries=6, retry_delay=600)
def issue_for_case_task(case_id: int) -> str | None:
    from yiwang.cases.models import Case

    case = Case.objects.select_related("version", "department", "applicant_person", "applicant_org").get(pk=case_id)
    licence = services.issue_for_case(case)
    return licence.identifier if licence else None
