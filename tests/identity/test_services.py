"""Identity use cases: citizens, persons registered at a window, organisations, agents, staff roles."""

import datetime as dt

import pytest
from django.db import connection

from yiwang.core import audit
from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.ids import make_citizen_id, make_uscc
from yiwang.identity import selectors, services
from yiwang.identity.models import AgentAuthorization, Department, NaturalPerson, Region, StaffRole, User

pytestmark = pytest.mark.django_db

ID_1 = make_citizen_id("441602", dt.date(1990, 5, 17), 123)
ID_2 = make_citizen_id("441625", dt.date(1988, 2, 29), 42)
PASSWORD = "Heyuan-2026-window"


@pytest.fixture
def city():
    return Region.objects.create(code="441600", name="河源市", level=Region.Level.CITY)


@pytest.fixture
def department(city):
    return Department.objects.create(
        name="河源市市场监督管理局", credit_code=make_uscc("11441600", "MB2C1234"), region=city
    )


def citizen(**overrides):
    data = {"name": "张三", "id_number": ID_1, "phone": "13800138000", "password": PASSWORD} | overrides
    return services.register_citizen(**data)


def test_register_citizen_creates_account_and_person_normalised():
    user = citizen(name=" 张  三 ", id_number=" " + ID_1[:6] + " " + ID_1[6:].lower(), phone="+86 138-0013-8000")
    assert user.username == "13800138000" and user.phone == "13800138000"
    assert user.display_name == "张 三"
    person = user.person
    assert person.id_number == ID_1
    assert person.phone == "13800138000"
    assert user.password.startswith("argon2")
    assert user.check_password(PASSWORD)
    event = audit.history(person).get()
    assert event.action == "person.account_opened"
    assert ID_1 not in str(event.data) and event.data["id_number"] == "441602********" + ID_1[-4:]


def test_register_citizen_reports_every_bad_field_at_once():
    with pytest.raises(InvalidInput) as exc:
        citizen(name="", id_number="44160219900517123", phone="1234", password="12345678")
    errors = exc.value.errors
    assert errors["name"] == "请填写姓名。"
    assert errors["id_number"] == "公民身份号码应为18位，当前为17位。"
    assert errors["phone"] == "手机号码应为以1开头的11位数字。"
    assert "password" in errors
    assert exc.value.field == "name"
    assert not User.objects.exists() and not NaturalPerson.objects.exists()


def test_weak_password_is_refused_in_chinese():
    with pytest.raises(InvalidInput) as exc:
        citizen(password="12345")
    assert exc.value.field == "password"
    assert "密码" in exc.value.message


def test_duplicate_phone_and_id_number_are_named():
    citizen()
    with pytest.raises(Conflict) as exc:
        citizen(id_number=ID_2)
    assert exc.value.field == "phone" and exc.value.message == "该手机号码已注册，请直接登录。"
    with pytest.raises(Conflict) as exc:
        citizen(phone="13900139000")
    assert exc.value.field == "id_number" and exc.value.message == "该公民身份号码已注册账号，请直接登录。"
    assert User.objects.count() == 1


def test_person_registered_at_a_window_later_opens_an_account():
    person = services.register_person(name="李四", id_number=ID_2, actor="clerk")
    with pytest.raises(InvalidInput) as exc:
        citizen(name="王五", id_number=ID_2)
    assert exc.value.field == "name"
    user = citizen(name="李四", id_number=ID_2)
    person.refresh_from_db()
    assert person.user == user and person.phone == "13800138000"
    assert NaturalPerson.objects.count() == 1


def test_register_person_and_find_by_id_number(city):
    person = services.register_person(
        name="赵六", id_number=ID_2.lower(), phone="139 0013 9000", address="源城区", region=city, actor="clerk"
    )
    assert person.user is None and person.region == city
    assert services.find_person_by_id_number(" " + ID_2) == person
    assert services.find_person_by_id_number(ID_1) is None
    with pytest.raises(InvalidInput):
        services.find_person_by_id_number("12345")
    with pytest.raises(Conflict) as exc:
        services.register_person(name="赵六", id_number=ID_2)
    assert exc.value.field == "id_number"
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM identity_naturalperson")
        assert ID_2 not in cursor.fetchone()[0]


def test_update_person_audits_masked_changes():
    person = services.register_person(name="赵六", id_number=ID_2, phone="13900139000")
    services.update_person(person, phone="13700137000", address="新地址", actor="clerk")
    person.refresh_from_db()
    assert person.phone == "13700137000"
    event = audit.history(person).last()
    assert event.action == "person.updated"
    assert event.data == {
        "before": {"address": "", "phone": "139****9000"},
        "after": {"address": "新地****", "phone": "137****7000"},
    }
    with pytest.raises(InvalidInput):
        services.update_person(person, phone="abc")


def test_register_legal_person(city):
    code = make_uscc("91441602", "MA4UXY3K")
    org = services.register_legal_person(
        name="河源市源城区好味餐饮店", uscc=" " + code.lower(), legal_representative="张三", region=city
    )
    assert org.uscc == code
    with pytest.raises(Conflict) as exc:
        services.register_legal_person(name="另一家", uscc=code)
    assert exc.value.field == "uscc" and "河源市源城区好味餐饮店" in exc.value.message
    with pytest.raises(InvalidInput) as exc:
        services.register_legal_person(name="坏代码", uscc=code[:10] + "I" + code[11:])
    assert exc.value.field == "uscc" and "I" in exc.value.message
    with pytest.raises(InvalidInput) as exc:
        services.register_legal_person(name="", uscc=make_uscc("91441602", "MA4UXY3L"))
    assert exc.value.message == "请填写单位名称。"


def test_agents_are_authorized_renewed_and_revoked():
    person = services.register_person(name="钱七", id_number=ID_1)
    other = services.register_person(name="孙八", id_number=ID_2)
    org = services.register_legal_person(name="河源市东源县农民专业合作社", uscc=make_uscc("93441625", "MA51AB2C"))
    today = dt.date.today()

    services.authorize_agent(person=person, organisation=org, valid_until=today + dt.timedelta(days=30))
    services.authorize_agent(person=other, organisation=org, valid_from=today + dt.timedelta(days=5))
    assert list(selectors.organisations_for(person)) == [org]
    assert list(selectors.organisations_for(other)) == []  # not yet in force
    assert list(selectors.organisations_for(other, on=today + dt.timedelta(days=5))) == [org]
    assert list(selectors.organisations_for(person, on=today + dt.timedelta(days=31))) == []
    assert selectors.may_act_for(person, org)

    services.authorize_agent(person=person, organisation=org)  # renewed, open-ended
    assert AgentAuthorization.objects.get(person=person).valid_until is None
    services.revoke_agent(person=person, organisation=org, actor="admin")
    assert list(selectors.organisations_for(person)) == []
    assert [e.action for e in audit.history(org)][-3:] == ["agent.authorized", "agent.renewed", "agent.revoked"]
    with pytest.raises(NotFound):
        services.revoke_agent(person=person, organisation=org)


def test_agent_dates_are_checked():
    person = services.register_person(name="钱七", id_number=ID_1)
    org = services.register_legal_person(name="某公司", uscc=make_uscc("91441602", "MA4UXY3K"))
    today = dt.date.today()
    with pytest.raises(InvalidInput) as exc:
        services.authorize_agent(
            person=person,
            organisation=org,
            valid_from=today + dt.timedelta(days=9),
            valid_until=today + dt.timedelta(1),
        )
    assert exc.value.message == "授权截止日期不能早于授权起始日期。"
    with pytest.raises(InvalidInput) as exc:
        services.authorize_agent(person=person, organisation=org, valid_until=today - dt.timedelta(days=1))
    assert exc.value.field == "valid_until"
    assert not AgentAuthorization.objects.exists()


def test_roles_are_granted_and_revoked(department, city):
    other = Department.objects.create(name="河源市公安局", credit_code=make_uscc("11441600", "MB2C5678"), region=city)
    clerk = User.objects.create_user("clerk", password=PASSWORD)
    services.grant_role(user=clerk, department=department, role="window_clerk", actor="admin")
    services.grant_role(user=clerk, department=department, role="window_clerk")  # idempotent
    services.grant_role(user=clerk, department=other, role=StaffRole.Role.HANDLER)
    assert selectors.roles_of(clerk) == {"window_clerk", "handler"}
    assert set(selectors.departments_of(clerk)) == {other, department}
    assert list(selectors.departments_of(clerk, role="handler")) == [other]
    assert selectors.has_role(clerk, "handler", other) and not selectors.has_role(clerk, "handler", department)
    assert not clerk.is_staff  # portal roles do not open the admin site

    services.grant_role(user=clerk, department=department, role="catalog_manager")
    clerk.refresh_from_db()
    assert clerk.is_staff
    services.revoke_role(user=clerk, department=department, role="catalog_manager", actor="admin")
    clerk.refresh_from_db()
    assert not clerk.is_staff
    assert selectors.roles_of(clerk) == {"window_clerk", "handler"}
    assert [e.action for e in audit.history(clerk)] == ["role.granted", "role.granted", "role.granted", "role.revoked"]
    with pytest.raises(NotFound):
        services.revoke_role(user=clerk, department=department, role="catalog_manager")
    with pytest.raises(InvalidInput) as exc:
        services.grant_role(user=clerk, department=department, role="king")
    assert exc.value.field == "role"


def test_selectors_for_anonymous_and_missing():
    from django.contrib.auth.models import AnonymousUser

    assert selectors.roles_of(AnonymousUser()) == frozenset()
    assert not selectors.departments_of(AnonymousUser()).exists()
    assert not selectors.organisations_for(None).exists()
    assert selectors.person_of(AnonymousUser()) is None
