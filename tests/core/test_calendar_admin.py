"""Administrators enter a year's official schedule in the admin, with its days inline."""

import datetime as dt

import pytest
from django.dispatch import receiver

from yiwang.core import audit
from yiwang.core.calendar import add_working_days, schedule_published
from yiwang.core.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db


def inline(rows, initial=0):
    data = {
        "days-TOTAL_FORMS": str(len(rows)),
        "days-INITIAL_FORMS": str(initial),
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
    }
    for i, (date, workday, name) in enumerate(rows):
        data[f"days-{i}-date"] = date
        if workday:
            data[f"days-{i}-is_workday"] = "on"
        data[f"days-{i}-name"] = name
        if i < initial:
            data[f"days-{i}-year"] = date[:4]
    return data


@pytest.fixture
def announced():
    years = []

    @receiver(schedule_published)
    def listen(sender, year, **kwargs):
        years.append(year)

    yield years
    schedule_published.disconnect(listen)


def test_changelist_is_chinese_and_warns_about_next_year(admin_client):
    page = admin_client.get("/admin/core/calendaryear/").content.decode()
    assert "节假日安排年份" in page
    assert "从文件导入" in page
    next_year = dt.date.today().year + 1
    if not CalendarYear.objects.filter(year=next_year).exists():
        assert f"{next_year} 年的节假日安排尚未录入" in page
    assert "国庆节" in admin_client.get("/admin/core/calendarday/?year__year__exact=2026").content.decode()


def test_add_a_year_with_its_days(admin_client, announced, django_capture_on_commit_callbacks):
    data = {"year": "2027", "source": "国务院办公厅通知"} | inline(
        [("2027-01-01", False, "元旦"), ("2027-02-06", True, "春节调休上班"), ("", False, "")]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/core/calendaryear/add/", data)
    assert response.status_code == 302, response.content.decode()
    assert announced == [2027]
    assert list(CalendarDay.objects.filter(year=2027).values_list("date", "is_workday", "name")) == [
        (dt.date(2027, 1, 1), False, "元旦"),
        (dt.date(2027, 2, 6), True, "春节调休上班"),
    ]
    assert add_working_days(dt.date(2026, 12, 31), 1) == add_working_days(dt.date(2027, 1, 3), 1)
    assert not add_working_days(dt.date(2026, 12, 31), 1).provisional
    event = audit.history(("core.calendaryear", 2027)).get()
    assert event.actor == "admin" and event.action == "schedule_published"


def test_edit_a_year_replaces_its_days(admin_client, django_capture_on_commit_callbacks, announced):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/core/calendaryear/add/",
            {"year": "2027", "source": "v1"} | inline([("2027-01-01", False, "元旦"), ("2027-02-05", False, "春节")]),
        )
        data = {"source": "v2"} | inline([("2027-01-01", False, "元旦"), ("2027-02-05", False, "春节")], initial=2)
        data["days-0-DELETE"] = "on"
        response = admin_client.post("/admin/core/calendaryear/2027/change/", data)
    assert response.status_code == 302, response.content.decode()
    assert list(CalendarDay.objects.filter(year=2027).values_list("date", flat=True)) == [dt.date(2027, 2, 5)]
    assert CalendarYear.objects.get(year=2027).source == "v2"
    assert announced == [2027, 2027]


def test_day_outside_the_year_is_refused_in_chinese(admin_client, announced):
    data = {"year": "2027", "source": ""} | inline([("2028-01-01", False, "元旦")])
    response = admin_client.post("/admin/core/calendaryear/add/", data)
    assert response.status_code == 200
    assert "2028-01-01 不在 2027 年内。" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert announced == []


def test_years_cannot_be_deleted(admin_client):
    response = admin_client.get("/admin/core/calendaryear/2026/delete/")
    assert response.status_code == 403
