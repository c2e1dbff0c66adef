"""After logging in each role lands on its own page; a safe `next` still wins."""

from __future__ import annotations

import pytest
from case_pages import PASSWORD, make_staff
from catalog.factories import DepartmentFactory

from yiwang.identity.models import StaffRole, User

Role = StaffRole.Role


def log_in(client, user: User, **extra) -> str:
    response = client.post("/login/", {"username": user.username, "password": PASSWORD, **extra})
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


@pytest.fixture
def department(db):
    return DepartmentFactory(name="河源市市场监督管理局")


@pytest.mark.parametrize(
    ("roles", "landing"),
    [
        ([Role.HANDLER], "/workbench/"),
        ([Role.REVIEWER], "/workbench/"),
        ([Role.APPROVER], "/workbench/"),
        ([Role.SUPERVISOR], "/workbench/"),
        ([Role.WINDOW_CLERK], "/window/"),
        ([Role.WINDOW_CLERK, Role.HANDLER], "/window/"),
    ],
)
def test_staff_land_on_their_own_page(client, department, roles, landing):
    assert log_in(client, make_staff("工作人员", department, *roles)) == landing
    assert client.get(landing).status_code == 200


@pytest.mark.parametrize("role", [Role.CATALOG_MANAGER, Role.ADMINISTRATOR])
def test_catalog_managers_and_administrators_land_in_the_admin(client, department, role):
    user = make_staff("管理员", department, role)
    User.objects.filter(pk=user.pk).update(is_staff=True)
    assert log_in(client, user) == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_citizens_land_on_the_home_page_or_their_next(client, world):
    assert log_in(client, world.user) == "/"
    client.logout()
    assert log_in(client, world.user, next="/my/cases/") == "/my/cases/"


def test_a_safe_next_wins_over_the_role_page_and_a_foreign_one_does_not(client, department):
    clerk = make_staff("窗口", department, Role.WINDOW_CLERK)
    assert log_in(client, clerk, next="/progress/") == "/progress/"
    client.logout()
    assert log_in(client, clerk, next="https://evil.example.com/") == "/window/"


def test_the_window_clerk_finds_the_window_desk_in_the_header(client, department):
    client.force_login(make_staff("窗口", department, Role.WINDOW_CLERK))
    header = client.get("/").content.decode().split("</header>")[0]
    assert 'href="/window/"' in header and 'href="/workbench/"' in header
