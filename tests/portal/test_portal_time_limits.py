"""Time-limit marks (限时办结预警): a case past its due date is marked red with the working days overdue
on the applicant's 我的办件 and case page and on the staff workbench and case page, at once (from the
stored due date, not waiting for the warning sweep); a case the sweep found near its limit is yellow.
The lists compute the marks in the query: their query count does not grow with the cases."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yiwang.cases.models import Case
from yiwang.core.calendar import working_days_between


def _marks(response) -> list[str]:
    return re.findall(r'data-limit="(\w+)">([^<]*)<', response.content.decode())


def _overdue(case: Case, calendar_days: int = 9) -> int:
    """Move the due date into the past as time does, the sweep not having run since; the working days overdue."""
    today = timezone.localdate()
    due = today - dt.timedelta(days=calendar_days)
    Case.objects.filter(pk=case.pk).update(due_date=due, warning_level="none")
    return working_days_between(due, today)[0]


PAGES = {
    "my_cases": lambda case: reverse("portal:my_cases"),
    "case_detail": lambda case: reverse("portal:case_detail", args=[case.number]),
    "workbench": lambda case: reverse("portal:workbench"),
    "staff_case": lambda case: reverse("portal:staff_case", args=[case.number]),
}


@pytest.mark.parametrize("page", PAGES)
def test_an_overdue_case_is_marked_red_with_the_working_days(client, world, accepted, page):
    case = accepted()
    days = _overdue(case)
    client.force_login(world.user if page in {"my_cases", "case_detail"} else world.handler)
    response = client.get(PAGES[page](case))
    assert response.status_code == 200
    assert ("red", f"已超期 {days} 个工作日") in _marks(response)


@pytest.mark.parametrize("page", PAGES)
def test_a_case_near_its_limit_is_marked_yellow(client, world, accepted, page):
    case = accepted()
    Case.objects.filter(pk=case.pk).update(warning_level="yellow")
    client.force_login(world.user if page in {"my_cases", "case_detail"} else world.handler)
    marks = _marks(client.get(PAGES[page](case)))
    assert ("yellow", "即将到期") in marks and not [m for m in marks if m[0] == "red"]


def test_the_workbench_red_queue_holds_the_overdue_case(client, world, accepted):
    case = accepted()
    _overdue(case)
    client.force_login(world.handler)
    page = client.get(reverse("portal:workbench")).content.decode()
    red = page[page.index('id="queue-red"') : page.index('id="queue-yellow"')]
    assert case.number in red and "时限预警：红色（已超期）1 件" in page


def test_a_suspended_case_is_not_overdue(client, world, accepted):
    case = accepted()
    _overdue(case)
    Case.objects.filter(pk=case.pk).update(status="suspended")
    client.force_login(world.user)
    assert not _marks(client.get(reverse("portal:case_detail", args=[case.number])))


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["workbench", "my_cases"])
def test_the_marks_cost_no_query_per_case(client, world, accepted, page):
    client.force_login(world.user if page == "my_cases" else world.handler)
    url = PAGES[page](None)
    _overdue(accepted())
    _count(client, url)  # warm caches (calendar snapshot, session)
    one = _count(client, url)
    for _ in range(3):
        _overdue(accepted(), calendar_days=4)
    assert _count(client, url) == one
