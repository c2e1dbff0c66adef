"""Identity admin: Chinese, ID numbers masked except for superusers, changes through the services."""

import base64
import datetime as dt

import pytest
from django.db import connection

from yiwang.core import audit
from yiwang.core.ids import make_citizen_id, make_uscc
from yiwang.identity import services
from yiwang.identity.models import AgentAuthorization, Department, LegalPerson, NaturalPerson, Region, User

pytestmark = pytest.mark.django_db

ID_1 = make_citizen_id("441602", dt.date(1990, 5, 17), 123)
ID_2 = make_citizen_id("441625", dt.date(1975, 1, 2), 55)
PASSWORD = "Heyuan-2026-window"
NO_AGENTS = {"agents-TOTAL_FORMS": "0", "agents-INITIAL_FORMS": "0"}


@pytest.fixture
def city():
    return Region.objects.create(code="441600", name="河源市", level=Region.Level.CITY)


@pytest.fixture
def centre(city):
    return Department.objects.create(
        name="河源市政务服务数据管理局", credit_code=make_uscc("11441600", "MB2C0001"), region=city
    )


@pytest.fixture
def administrator(client, centre):
    user = User.objects.create_user("sysadmin", password=PASSWORD, display_name="系统管理员")
    services.grant_role(user=user, department=centre, role="administrator")
    client.force_login(user)
    return client


@pytest.fixture
def person():
    return services.register_person(name="张三", id_number=ID_1, phone="13800138000")


def encrypted_column(person) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM identity_naturalperson WHERE id = %s", [person.pk])
        return cursor.fetchone()[0]


def test_administrator_sees_masked_id_numbers_only(administrator, person):
    masked = "441602********" + ID_1[-4:]
    listing = administrator.get("/admin/identity/naturalperson/").content.decode()
    detail = administrator.get(f"/admin/identity/naturalperson/{person.pk}/change/").content.decode()
    for page in (listing, detail):
        assert masked in page
        assert ID_1 not in page
        assert encrypted_column(person) not in page
        assert "138****8000" in page or "13800138000" in page
    assert "自然人" in listing and "公民身份号码" in listing
    assert ID_1 not in detail and 'name="id_number' not in detail


def test_superuser_sees_the_full_number_but_never_the_ciphertext(admin_client, person):
    detail = admin_client.get(f"/admin/identity/naturalperson/{person.pk}/change/").content.decode()
    assert ID_1 in detail
    assert encrypted_column(person) not in detail
    assert base64.b64decode(encrypted_column(person)).hex() not in detail


def test_search_by_complete_id_number_uses_the_blind_index(administrator, person):
    services.register_person(name="李四", id_number=ID_2)
    page = administrator.get("/admin/identity/naturalperson/", {"q": ID_1.lower()}).content.decode()
    assert "张三" in page and "李四" not in page
    page = administrator.get("/admin/identity/naturalperson/", {"q": "李四"}).content.decode()
    assert "李四" in page and "张三" not in page


def test_adding_a_person_in_the_admin_goes_through_the_service(administrator):
    response = administrator.post(
        "/admin/identity/naturalperson/add/",
        {"name": "赵六", "id_number_input": ID_2.lower(), "phone": "13900139000", "assurance_level": "1"}
        | {"agencies-TOTAL_FORMS": "0", "agencies-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 302, response.content.decode()
    person = NaturalPerson.objects.get(name="赵六")
    assert person.id_number == ID_2
    assert audit.history(person).get().actor == "sysadmin"
    bad = administrator.post(
        "/admin/identity/naturalperson/add/",
        {"name": "赵六", "id_number_input": ID_2, "assurance_level": "1"}
        | {"agencies-TOTAL_FORMS": "0", "agencies-INITIAL_FORMS": "0"},
    )
    assert "该公民身份号码已登记，请直接查找该自然人。" in bad.content.decode()
    wrong = administrator.post(
        "/admin/identity/naturalperson/add/",
        {"name": "钱七", "id_number_input": ID_2[:-1], "assurance_level": "1"}
        | {"agencies-TOTAL_FORMS": "0", "agencies-INITIAL_FORMS": "0"},
    )
    assert "公民身份号码应为18位，当前为17位。" in wrong.content.decode()


def test_editing_a_person_is_audited(administrator, person):
    response = administrator.post(
        f"/admin/identity/naturalperson/{person.pk}/change/",
        {"name": "张三", "phone": "13700137000", "address": "源城区", "assurance_level": "2"}
        | {"agencies-TOTAL_FORMS": "0", "agencies-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 302, response.content.decode()
    person.refresh_from_db()
    assert person.phone == "13700137000" and person.assurance_level == 2
    assert person.id_number == ID_1
    assert audit.history(person).last().action == "person.updated"


def test_legal_person_with_forbidden_letter_is_refused(administrator):
    code = make_uscc("91441602", "MA4UXY3K")
    response = administrator.post(
        "/admin/identity/legalperson/add/",
        {"name": "某餐饮店", "uscc": code[:10] + "O" + code[11:]}
        | {"agents-TOTAL_FORMS": "0", "agents-INITIAL_FORMS": "0"},
    )
    assert "统一社会信用代码第11位含有不允许的字符：O" in response.content.decode()
    response = administrator.post(
        "/admin/identity/legalperson/add/",
        {"name": "某餐饮店", "uscc": code.lower()} | NO_AGENTS,
    )
    assert response.status_code == 302, response.content.decode()
    assert LegalPerson.objects.get().uscc == code


def test_agent_authorization_and_revocation_in_the_admin(administrator, person):
    org = services.register_legal_person(name="某餐饮店", uscc=make_uscc("91441602", "MA4UXY3K"))
    response = administrator.post(
        "/admin/identity/agentauthorization/add/", {"person": person.pk, "organisation": org.pk}
    )
    assert response.status_code == 302, response.content.decode()
    authorization = AgentAuthorization.objects.get()
    response = administrator.post(f"/admin/identity/agentauthorization/{authorization.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AgentAuthorization.objects.exists()
    assert [e.action for e in audit.history(org)][-2:] == ["agent.authorized", "agent.revoked"]


def test_staff_roles_in_the_admin(administrator, centre):
    user = User.objects.create_user("manager", password=PASSWORD)
    response = administrator.post(
        "/admin/identity/staffrole/add/", {"user": user.pk, "department": centre.pk, "role": "catalog_manager"}
    )
    assert response.status_code == 302, response.content.decode()
    user.refresh_from_db()
    assert user.is_staff
    page = administrator.get("/admin/identity/user/").content.decode()
    assert "事项管理员" in page
    role = user.staff_roles.get()
    administrator.post(f"/admin/identity/staffrole/{role.pk}/delete/", {"post": "yes"})
    user.refresh_from_db()
    assert not user.is_staff and not user.staff_roles.exists()


def test_citizens_have_no_admin(client):
    user = services.register_citizen(name="张三", id_number=ID_1, phone="13800138000", password=PASSWORD)
    client.force_login(user)
    assert client.get("/admin/identity/naturalperson/").status_code == 302  # to the admin login


def test_administrator_creates_a_staff_account(administrator):
    response = administrator.post(
        "/admin/identity/user/add/",
        {
            "username": "heyuan-clerk-9",
            "display_name": "王九",
            "phone": "13700000009",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(username="heyuan-clerk-9")
    assert user.display_name == "王九" and user.phone == "13700000009"
    assert user.password.startswith("argon2")
