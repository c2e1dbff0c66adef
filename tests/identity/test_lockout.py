"""Password guessing is stopped: after a few failed logins an account (whatever identifier was typed)
or an address is locked for a while, on the portal, the admin and the API's HTTP Basic auth; even
the right password is refused then, with a Chinese message that says how long to wait."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from axes.models import AccessAttempt
from cases.http import Api
from cases.test_query_plans import _explain
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from yiwang.core import audit
from yiwang.core.ids import make_citizen_id
from yiwang.identity import services
from yiwang.identity.models import User

pytestmark = pytest.mark.django_db

ID_1 = make_citizen_id("441602", dt.date(1990, 5, 17), 123)
PHONE = "13800138000"
PASSWORD = "Heyuan-2026-window"
WAIT = "请 15 分钟后再试"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Dozens of logins per test: a fast hasher keeps them quick (the limits do not depend on it)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def citizen(_fast_passwords) -> User:
    return services.register_citizen(name="张三", id_number=ID_1, phone=PHONE, password=PASSWORD)


def log_in(client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def logged_in(client) -> bool:
    return client.get("/").context["user"].is_authenticated


def fail_five_times(client) -> list:
    """Five wrong passwords for the citizen, typed as phone and ID number in several forms."""
    identifiers = [PHONE, "138 0013 8000", ID_1, ID_1.lower(), f" {PHONE} "]
    return [log_in(client, identifier, f"wrong-password-{n}") for n, identifier in enumerate(identifiers)]


def test_five_wrong_passwords_lock_the_account_whatever_identifier_was_typed(client, citizen):
    answers = fail_five_times(client)
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert "账号或密码不正确，请重新输入。" in answers[0].content.decode()
    locked = log_in(client, ID_1, PASSWORD)  # the right password, by the other identifier
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "登录失败次数过多" in page and WAIT in page
    assert 'name="username"' in page  # the login page again, not a bare error
    assert locked["Retry-After"] == "900"
    assert not logged_in(client)
    assert log_in(client, PHONE, PASSWORD).status_code == 429


def test_the_lock_ends_after_the_window(client, citizen):
    with freeze_time("2026-12-03 10:00:00") as clock:
        fail_five_times(client)
        clock.tick(dt.timedelta(minutes=10))
        assert log_in(client, PHONE, PASSWORD).status_code == 429
        clock.tick(dt.timedelta(minutes=16))  # 15 minutes after the last attempt, refused ones included
        assert log_in(client, PHONE, PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_successful_login_clears_the_account_failures(client, citizen):
    for n in range(4):
        assert log_in(client, PHONE, f"wrong-{n}").status_code == 200
    assert log_in(client, PHONE, PASSWORD).status_code == 302
    client.post("/logout/")
    for n in range(4):
        assert log_in(client, ID_1, f"wrong-again-{n}").status_code == 200
    assert log_in(client, ID_1, PASSWORD).status_code == 302


def test_an_address_guessing_many_accounts_is_locked(client, citizen):
    """One password tried against 30 accounts (none of which has 5 failures) locks the address."""
    answers = [log_in(client, f"139{n:08d}", "Yiwang@2026") for n in range(30)]
    assert [a.status_code for a in answers[:29]] == [200] * 29
    assert answers[29].status_code == 429
    assert log_in(client, PHONE, PASSWORD).status_code == 429
    # the citizen's own account is not locked: from another address the right password works
    other = Client(REMOTE_ADDR="10.20.30.40")
    assert log_in(other, PHONE, PASSWORD).status_code == 302


def test_the_admin_login_is_locked_too(client):
    User.objects.create_superuser("root", password=PASSWORD)
    for n in range(4):
        wrong = client.post("/admin/login/", {"username": "root", "password": f"wrong-{n}"})
        assert wrong.status_code == 200
    locked = client.post("/admin/login/", {"username": "root", "password": "wrong-4"})
    assert locked.status_code == 429
    right = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert right.status_code == 429
    assert WAIT in right.content.decode() and 'id="login-form"' in right.content.decode()
    assert client.get("/admin/").status_code == 302  # still to the login page


def basic(username: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_api_basic_auth_is_locked_too(live_server, citizen):
    api = Api(live_server.url)
    for n in range(4):
        wrong = api.get("/api/cases/", headers=basic(PHONE, f"wrong-{n}"))
        assert wrong.status in (401, 403) and wrong.json["code"] != "locked_out"
    locked = api.get("/api/cases/", headers=basic(ID_1, "wrong-4"))
    assert locked.status == 429
    right = api.get("/api/cases/", headers=basic(PHONE, PASSWORD))
    assert right.status == 429
    assert right.json["code"] == "locked_out" and WAIT in right.json["detail"]
    assert right.headers["Retry-After"] == "900"
    assert right.headers["Content-Type"] == "application/json"


def test_an_administrator_unlocks_an_account(client, citizen):
    fail_five_times(client)
    assert log_in(client, PHONE, PASSWORD).status_code == 429
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", password=PASSWORD))
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and PHONE in listing.content.decode()
    ids = [str(pk) for pk in AccessAttempt.objects.filter(username=citizen.username).values_list("pk", flat=True)]
    answer = admin.post("/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": ids}, follow=True)
    assert "已清除" in answer.content.decode()
    assert log_in(client, PHONE, PASSWORD).status_code == 302
    assert [e.action for e in audit.history(("login", citizen.username))] == ["login.unlocked"]


def test_counting_failures_reads_the_attempts_through_indexes(client, citizen):
    fail_five_times(client)
    with CaptureQueriesContext(connection) as ctx:
        log_in(client, f"139{1:08d}", "wrong")
    statements = [
        q["sql"]
        for q in ctx.captured_queries
        if "axes_accessattempt" in q["sql"] and q["sql"].lstrip().upper().startswith(("SELECT", "DELETE"))
    ]
    assert len(statements) >= 3  # the clean-up, the record of this failure, the counts
    for sql in statements:
        full = [table for op, table in _explain(sql) if op == "Seq Scan" and table.startswith("axes_")]
        assert not full, sql


def test_the_address_is_the_one_our_proxy_forwarded(client, citizen, settings):
    """Behind a trusted proxy each forwarded client has its own count; a rotating header from
    anyone else changes nothing (core.http.client_ip, shared with the progress-query throttle)."""
    for n in range(30):
        log_in(client, f"139{n:08d}", "Yiwang@2026", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert log_in(client, PHONE, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.200").status_code == 429
    AccessAttempt.objects.all().delete()

    settings.YIWANG_TRUSTED_PROXIES = "127.0.0.1"  # the test client's peer address is our proxy
    for n in range(30):
        log_in(client, f"139{n:08d}", "Yiwang@2026", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert log_in(client, PHONE, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert log_in(client, PHONE, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}


def test_guesses_at_an_unknown_phone_number_are_counted_without_keeping_the_number(client):
    typed = ["13900139000", "139 0013 9000", "139-0013-9000", "13900139000", " 13900139000 "]
    answers = [log_in(client, number, f"wrong-password-{n}") for n, number in enumerate(typed)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    kept = list(AccessAttempt.objects.values_list("username", flat=True))
    assert kept and all(k.startswith("phone:") and "13900139000" not in k for k in kept)
    assert len(set(kept)) == 1  # the number typed in any form counts as one
