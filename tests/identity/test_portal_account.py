"""Citizens register on the portal and log in with phone number or ID number plus password."""

import datetime as dt

import pytest

from yiwang.core.ids import make_citizen_id
from yiwang.identity import services
from yiwang.identity.models import NaturalPerson, User, phone_digest

pytestmark = pytest.mark.django_db

ID_1 = make_citizen_id("441602", dt.date(1990, 5, 17), 123)
PASSWORD = "Heyuan-2026-window"


def form(**overrides):
    return {
        "name": "张三",
        "id_number": ID_1,
        "phone": "13800138000",
        "password": PASSWORD,
        "password2": PASSWORD,
    } | overrides


@pytest.fixture
def account():
    return services.register_citizen(name="张三", id_number=ID_1, phone="13800138000", password=PASSWORD)


def test_register_page_is_chinese_and_linked_from_login(client):
    page = client.get("/register/").content.decode()
    assert "注册个人账号" in page and "公民身份号码" in page and "再次输入密码" in page
    assert 'href="/register/"' in client.get("/login/").content.decode()


def test_registration_logs_the_citizen_in(client):
    response = client.post("/register/", form(id_number=ID_1.lower(), phone="138 0013 8000"), follow=True)
    assert response.redirect_chain[-1][0] == "/"
    body = response.content.decode()
    assert "注册成功" in body and "张三" in body
    user = User.objects.get(phone_digest=phone_digest("13800138000"))
    assert response.context["user"] == user
    assert user.person.id_number == ID_1


def test_registration_errors_are_shown_on_their_fields(client):
    response = client.post(
        "/register/", form(name="", id_number="4416021990051712", phone="12", password="abc", password2="abc")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "请修改以下内容" in body
    assert "请填写姓名。" in body
    assert "公民身份号码应为18位，当前为16位。" in body
    assert "手机号码应为以1开头的11位数字。" in body
    errors = response.context["form"].errors
    assert set(errors) == {"name", "id_number", "phone", "password"}
    assert not User.objects.exists()


def test_password_confirmation_and_duplicate(client, account):
    response = client.post("/register/", form(password2="something-else-2026"))
    assert "两次输入的密码不一致。" in response.content.decode()
    response = client.post("/register/", form(phone="13900139000"))
    assert response.context["form"].errors["id_number"] == ["该公民身份号码已注册账号，请直接登录。"]
    assert NaturalPerson.objects.count() == 1


def test_login_by_phone_number(client, account):
    response = client.post("/login/", {"username": "138 0013 8000", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == account


def test_login_by_id_number(client, account):
    response = client.post("/login/", {"username": ID_1.lower(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == account


def test_login_with_a_wrong_password(client, account):
    response = client.post("/login/", {"username": ID_1, "password": "wrong-password-1"})
    assert response.status_code == 200
    assert "账号或密码不正确，请重新输入。" in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_inactive_account_cannot_log_in(client, account):
    account.is_active = False
    account.save()
    for username in ("13800138000", ID_1):
        response = client.post("/login/", {"username": username, "password": PASSWORD})
        assert response.status_code == 200
        assert not response.context["user"].is_authenticated


def test_staff_log_in_with_user_name(client):
    User.objects.create_user("heyuan-clerk", password=PASSWORD, display_name="窗口人员")
    assert client.post("/login/", {"username": "heyuan-clerk", "password": PASSWORD}).status_code == 302


def test_password_hash_is_argon2(account):
    assert account.password.startswith("argon2$argon2id$")
