"""忘记密码: a new password with an SMS code, without telling anyone which numbers have an account.
The code expires, works once, and only a few wrong tries; asking for codes is limited per number
and per address alike whether or not the number has an account."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from freezegun import freeze_time

from yiwang.core import audit
from yiwang.core.ids import make_citizen_id
from yiwang.core.models import Notification
from yiwang.identity import services
from yiwang.identity.models import PasswordResetCode, User, phone_digest

pytestmark = pytest.mark.django_db

ID_1 = make_citizen_id("441602", dt.date(1990, 5, 17), 123)
PHONE = "13800138000"
NOBODY = "13900139000"  # a number without an account
PASSWORD = "Heyuan-2026-window"
NEW_PASSWORD = "Wanlvhu-Lake-2027"
WRONG = "验证码不正确或已失效，请核对短信或重新获取。"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def citizen(_fast_passwords) -> User:
    return services.register_citizen(name="张三", id_number=ID_1, phone=PHONE, password=PASSWORD)


def ask(client, phone: str):
    return client.post("/password-reset/", {"phone": phone}, follow=True)


def sent_to(phone: str) -> list[Notification]:
    """The messages to the number, newest first (the recipient is encrypted: compared once read)."""
    return [n for n in Notification.objects.filter(channel="sms").order_by("-id") if n.recipient == phone]


def sms_code(phone: str) -> str:
    """The code of the newest SMS to the number (what the citizen reads on the phone)."""
    body = sent_to(phone)[0].body
    return re.search(r"验证码 (\d{6})", body).group(1)


def confirm(client, code: str, password: str = NEW_PASSWORD):
    return client.post("/password-reset/confirm/", {"code": code, "password": password, "password2": password})


def can_log_in(phone: str, password: str) -> bool:
    return Client().post("/login/", {"username": phone, "password": password}).status_code == 302


def test_the_login_page_links_to_the_reset(client):
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()


def test_a_citizen_sets_a_new_password_with_the_sms_code(client, citizen):
    page = ask(client, PHONE)
    assert "如果手机号码 138****8000 已注册个人账号，验证码已通过短信发送，10 分钟内有效。" in page.content.decode()
    answer = confirm(client, sms_code(PHONE))
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert "密码已重置，请用新密码登录。" in client.get("/login/").content.decode()
    assert can_log_in(PHONE, NEW_PASSWORD) and not can_log_in(PHONE, PASSWORD)
    assert [e.action for e in audit.history(citizen)][-1] == "account.password_reset"


def test_the_answer_is_the_same_whether_or_not_the_number_has_an_account(citizen):
    pages = {}
    for phone in (PHONE, NOBODY):
        page = ask(Client(), phone)
        assert page.redirect_chain == [("/password-reset/confirm/", 302)]
        pages[phone] = page.content.decode().replace(phone[:3] + "****" + phone[-4:], "NUMBER")
        pages[phone] = re.sub(r'value="[^"]{32,}"', "", pages[phone])  # the CSRF token differs anyway
    assert pages[PHONE] == pages[NOBODY]
    assert sent_to(NOBODY) == []  # nobody to send it to
    assert PasswordResetCode.objects.filter(phone_digest=phone_digest(NOBODY)).count() == 1  # counted like the other
    # asking again at once: the same refusal for both
    for phone in (PHONE, NOBODY):
        again = ask(Client(), phone)
        assert again.status_code == 400 and "验证码已发送，请 1 分钟后再重新获取。" in again.content.decode()
    # and a guessed code is "wrong" for both
    for phone in (PHONE, NOBODY):
        browser = Client()
        session = browser.session
        session["password_reset_phone"] = phone
        session.save()
        assert WRONG in confirm(browser, "123456").content.decode()


def test_a_code_works_once(client, citizen):
    ask(client, PHONE)
    code = sms_code(PHONE)
    assert confirm(client, code).status_code == 302
    ask(client, PHONE)  # within the minute: refused, so no newer code either
    session = client.session
    session["password_reset_phone"] = PHONE
    session.save()
    replay = confirm(client, code, "Another-Pass-2028")
    assert replay.status_code == 400 and WRONG in replay.content.decode()
    assert can_log_in(PHONE, NEW_PASSWORD)


def test_a_code_expires(client, citizen):
    with freeze_time("2026-12-03 09:00:00") as clock:
        ask(client, PHONE)
        clock.tick(dt.timedelta(minutes=11))
        assert WRONG in confirm(client, sms_code(PHONE)).content.decode()
    assert can_log_in(PHONE, PASSWORD)


def test_five_wrong_tries_end_the_code(client, citizen):
    ask(client, PHONE)
    code = sms_code(PHONE)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(5):
        assert WRONG in confirm(client, wrong).content.decode()
    assert WRONG in confirm(client, code).content.decode()
    assert can_log_in(PHONE, PASSWORD)


def test_only_the_newest_code_works(client, citizen):
    with freeze_time("2026-12-03 09:00:00") as clock:
        ask(client, PHONE)
        first = sms_code(PHONE)
        clock.tick(dt.timedelta(minutes=2))
        ask(client, PHONE)
        newest = sms_code(PHONE)
        if first != newest:  # one chance in a million that they are the same
            assert WRONG in confirm(client, first).content.decode()
        assert confirm(client, newest).status_code == 302


def test_codes_per_number_are_limited(client, citizen):
    with freeze_time("2026-12-03 09:00:00") as clock:
        for _ in range(5):
            assert ask(client, PHONE).redirect_chain
            clock.tick(dt.timedelta(minutes=2))
        sixth = ask(client, PHONE)
        assert sixth.status_code == 400 and "该号码获取验证码次数过多，请 1 小时后再试。" in sixth.content.decode()
    assert len(sent_to(PHONE)) == 5


def test_one_address_cannot_flood_many_numbers(client, citizen):
    answers = [ask(client, f"139{n:08d}").status_code for n in range(21)]
    assert answers == [200] * 20 + [429]
    assert "操作过于频繁" in ask(client, PHONE).content.decode()
    assert ask(Client(REMOTE_ADDR="10.20.30.40"), PHONE).redirect_chain  # another address is not concerned


def test_staff_passwords_are_not_reset_by_sms(client):
    User.objects.create_user("heyuan-clerk", password=PASSWORD, phone=PHONE, is_staff=True)
    assert ask(client, PHONE).redirect_chain == [("/password-reset/confirm/", 302)]
    assert sent_to(PHONE) == []


def test_a_new_password_unlocks_a_locked_account(client, citizen):
    for n in range(5):
        Client().post("/login/", {"username": PHONE, "password": f"wrong-{n}"})
    assert not can_log_in(PHONE, PASSWORD)
    ask(client, PHONE)
    assert confirm(client, sms_code(PHONE)).status_code == 302
    assert can_log_in(PHONE, NEW_PASSWORD)


def test_a_weak_new_password_keeps_the_code(client, citizen):
    ask(client, PHONE)
    code = sms_code(PHONE)
    weak = confirm(client, code, "12345678")
    assert weak.status_code == 400 and "密码" in weak.content.decode()
    assert confirm(client, code).status_code == 302
