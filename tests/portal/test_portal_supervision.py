"""效能监督: a supervisor sees every red (overdue) and yellow (near the limit) open case of its region
and the regions below it — never another region's — on a paginated page filtered by department and
colour, and over the API; read only: no action buttons, every write answers 403."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from case_pages import make_staff
from catalog.factories import DepartmentFactory, RegionFactory
from django.urls import reverse
from django.utils import timezone

from yiwang.cases.models import Case
from yiwang.core.calendar import working_days_between
from yiwang.identity.models import Region, StaffRole

SUPERVISOR = StaffRole.Role.SUPERVISOR


def _overdue(case: Case, calendar_days: int = 9) -> int:
    today = timezone.localdate()
    due = today - dt.timedelta(days=calendar_days)
    Case.objects.filter(pk=case.pk).update(due_date=due, warning_level="none")
    return working_days_between(due, today)[0]


@pytest.fixture
def watched(world, accepted):
    """Cases of 河源市 (441600): one red, one yellow, one without warning; one red case of 源城区 (441602,
    below the city); and the supervisors of the city, of the district and of another city (惠州 441300)."""
    city = Region.objects.get(code="441600")
    district = RegionFactory(code="441602", name="源城区", level=Region.Level.COUNTY, parent=city)
    other_city = RegionFactory(code="441300", name="惠州市", level=Region.Level.CITY, parent=None)
    red, yellow, calm, district_red = accepted(), accepted(), accepted(), accepted()
    days = _overdue(red)
    Case.objects.filter(pk=yellow.pk).update(warning_level="yellow")
    _overdue(district_red, 3)
    Case.objects.filter(pk=district_red.pk).update(region_code="441602")
    supervisors = {
        "city": make_staff("市监督员", DepartmentFactory(name="河源市政务服务数据管理局"), SUPERVISOR),
        "district": make_staff(
            "区监督员", DepartmentFactory(name="源城区政务服务数据管理局", region=district), SUPERVISOR
        ),
        "other": make_staff(
            "惠州监督员", DepartmentFactory(name="惠州市政务服务数据管理局", region=other_city), SUPERVISOR
        ),
    }
    return {"red": red, "yellow": yellow, "calm": calm, "district_red": district_red, "days": days, **supervisors}


def _page(client, user, query: str = "") -> str:
    client.force_login(user)
    response = client.get(reverse("portal:supervision") + query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_supervisor_sees_every_red_and_yellow_case_of_its_region(client, world, watched):
    page = _page(client, watched["city"])
    for name in ("red", "yellow", "district_red"):
        assert watched[name].number in page
    assert watched["calm"].number not in page
    row = page[page.index(watched["red"].number) - 900 : page.index(watched["red"].number) + 900]
    assert f"已超期 {watched['days']} 个工作日" in row and world.market.name in row
    assert watched["red"].version.name in row and "办结" in row
    assert "红色 2 件" in page and "黄色 1 件" in page
    assert "<button" not in page.split('id="supervision-cases"')[1]  # nothing to press in the list


def test_filters_by_colour_and_department(client, world, watched):
    page = _page(client, watched["city"], "?level=yellow")
    assert watched["yellow"].number in page and watched["red"].number not in page
    page = _page(client, watched["city"], f"?department={world.civil.pk}")
    assert "没有红色或黄色预警的办件。" in page
    page = _page(client, watched["city"], f"?department={world.market.pk}&level=red")
    assert watched["red"].number in page and watched["yellow"].number not in page


def test_the_list_is_paginated(client, world, watched, monkeypatch):
    monkeypatch.setattr("yiwang.portal.views.cases.supervision.PER_PAGE", 2)
    page = _page(client, watched["city"], "?level=red")
    assert "第 1 / 1 页" not in page
    monkeypatch.setattr("yiwang.portal.views.cases.supervision.PER_PAGE", 1)
    page = _page(client, watched["city"], "?level=red")
    assert "第 1 / 2 页" in page and 'href="?level=red&page=2"' in page
    assert sum(watched[n].number in page for n in ("red", "district_red")) == 1


def test_a_supervisor_never_sees_another_regions_cases(client, world, watched):
    district = _page(client, watched["district"])
    assert watched["district_red"].number in district
    assert watched["red"].number not in district and watched["yellow"].number not in district
    other = _page(client, watched["other"])
    assert not any(watched[n].number in other for n in ("red", "yellow", "district_red"))
    client.force_login(watched["other"])
    assert client.get(reverse("portal:staff_case", args=[watched["red"].number])).status_code == 404
    reply = client.get("/api/supervision/cases/").json()
    assert reply["count"] == 0


def test_read_only_case_page_and_every_write_is_403(client, world, watched):
    client.force_login(watched["city"])
    number = watched["red"].number
    page = client.get(reverse("portal:staff_case", args=[number])).content.decode()
    assert 'id="read-only-notice"' in page and 'id="action-' not in page and "已超期" in page
    # which documents and materials exist is shown, their content (downloads) is not the supervisor's
    case = Case.objects.get(number=number)
    assert case.documents.exists() and case.materials.filter(file__gt="").exists()
    assert f"/cases/{number}/documents/" not in page and f"/cases/{number}/materials/" not in page
    for action in ("claim", "pass", "decide", "extension", "accept", "withdraw", "pay"):
        assert client.post(reverse("portal:staff_action", args=[number, action]), {}).status_code == 403
        api = client.post(f"/api/cases/{number}/{action}/", data=json.dumps({}), content_type="application/json")
        assert api.status_code == 403 and api.json()["code"] == "forbidden"
    decide = client.post(f"/api/cases/{number}/extensions/1/decide/", data="{}", content_type="application/json")
    assert decide.status_code == 403
    assert Case.objects.get(number=number).status == watched["red"].status


def test_the_workbench_of_a_supervisor_counts_its_regions_warnings(client, world, watched):
    client.force_login(watched["city"])
    page = client.get(reverse("portal:workbench")).content.decode()
    panel = page[page.index('id="workbench-supervision"') :][:800]
    assert "红色预警 2 件" in panel and "黄色预警 1 件" in panel and reverse("portal:supervision") in panel


def test_the_api_lists_them_with_the_days_overdue(client, world, watched):
    client.force_login(watched["city"])
    reply = client.get("/api/supervision/cases/").json()
    rows = {r["number"]: r for r in reply["results"]}
    assert set(rows) == {watched[n].number for n in ("red", "yellow", "district_red")}
    red = rows[watched["red"].number]
    assert red["level"] == "red" and red["overdue_days"] == watched["days"] and red["department"] == world.market.name
    assert rows[watched["yellow"].number]["level"] == "yellow"
    only = client.get(f"/api/supervision/cases/?level=yellow&department={world.market.pk}").json()
    assert [r["number"] for r in only["results"]] == [watched["yellow"].number]
    assert client.get("/api/supervision/cases/?level=blue").status_code == 400


def test_only_supervisors_may_look(client, world, watched):
    client.force_login(world.handler)
    assert client.get(reverse("portal:supervision")).status_code == 403
    assert client.get("/api/supervision/cases/").status_code == 403


def test_the_endpoint_is_in_the_openapi_schema(client, world):
    schema = client.get("/api/schema/?format=json").content.decode()
    assert "/api/supervision/cases/" in schema and "效能监督" in schema
    assert re.search(r'"level"', schema)
