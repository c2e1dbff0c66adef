"""Background jobs of the licence library (huey): the daily expiry sweep with reminders, and 同步签发
on a case's decision with its retry on the queue when it failed. Jobs call the services; the services
never import this module.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from yiwang.core.errors import YiwangError

from . import services

log = logging.getLogger("yiwang.licences")


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


def on_case_decided(sender, case, approved: bool, **kwargs) -> None:
    """Receiver of ``yiwang.cases.signals.case_decided`` (sent on commit): 同步签发."""
    if not approved:
        return
    try:
        services.issue_for_case(case)
    except YiwangError as exc:
        # e.g. the licence type is not registered yet: the decision stands, the queue retries
        log.warning("licence for case %s not issued (%s); queued for retry", case.number, exc.message)
        issue_for_case_task(case.pk)
    except Exception:
        log.exception("licence for case %s not issued; queued for retry", case.number)
        issue_for_case_task(case.pk)
