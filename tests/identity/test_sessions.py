"""Sessions: a new key at login (no fixation), CSRF on the login form and on API writes of a session,
expiry (8 hours for everyone; staff also after 30 idle minutes and at browser close), and logout
that ends the session on the server."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
from urllib.error import HTTPError

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from freezegun import freeze_time

from yiwang.core.ids import make_citizen_id
from yiwang.identity import services
from yiwang.identity.models import User

pytestmark = pytest.mark.django_db

ID_1 = make_citizen_id("441602", dt.date(1990, 5, 17), 123)
PHONE = "13800138000"
PASSWORD = "Heyuan-2026-window"
COOKIE = settings.SESSION_COOKIE_NAME


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def citizen(_fast_passwords) -> User:
    return services.register_citizen(name="张三", id_number=ID_1, phone=PHONE, password=PASSWORD)


@pytest.fixture
def clerk(_fast_passwords) -> User:
    return User.objects.create_user("heyuan-clerk", password=PASSWORD, display_name="窗口人员", is_staff=True)


def logged_in(client) -> bool:
    return client.get("/").context["user"].is_authenticated


def test_logging_in_gives_a_new_session_key(client, citizen):
    """A session planted before login (session fixation) does not become the logged-in one."""
    before = client.session
    before["planted"] = True
    before.save()
    planted = before.session_key
    client.cookies[COOKIE] = planted
    assert client.post("/login/", {"username": PHONE, "password": PASSWORD}).status_code == 302
    assert client.cookies[COOKIE].value != planted
    assert not Session.objects.filter(session_key=planted).exists()
    attacker = Client()
    attacker.cookies[COOKIE] = planted
    assert not logged_in(attacker)


def test_the_login_form_needs_its_csrf_token(citizen):
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post("/login/", {"username": PHONE, "password": PASSWORD})
    assert refused.status_code == 403 and "安全校验" in refused.content.decode()
    page = browser.get("/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    answer = browser.post("/login/", {"username": PHONE, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert answer.status_code == 302


class SessionHttp:
    """A client with cookies over real HTTP: the session login that integrators use at /login/."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def send(self, method: str, path: str, data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.read()
        except HTTPError as err:
            return err.code, err.read()

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def log_in(self, username: str, password: str) -> None:
        self.send("GET", "/login/")
        form = {"username": username, "password": password, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        status, _ = self.send("POST", "/login/", urllib.parse.urlencode(form).encode())
        assert status == 200  # the redirect, followed to the landing page
        assert any(c.name == COOKIE for c in self.jar)


def test_api_writes_with_a_session_need_the_csrf_header(live_server, citizen):
    browser = SessionHttp(live_server.url)
    browser.log_in(PHONE, PASSWORD)
    body = json.dumps({}).encode()
    status, answer = browser.send("POST", "/api/cases/", body, {"Content-Type": "application/json"})
    assert status == 403
    assert json.loads(answer) == {"code": "forbidden", "detail": "安全校验（CSRF）未通过，请刷新页面后重试。"}
    headers = {"Content-Type": "application/json", "X-CSRFToken": browser.cookie("csrftoken")}
    status, answer = browser.send("POST", "/api/cases/", body, headers)
    assert status == 400 and json.loads(answer)["code"] != "forbidden"  # past CSRF, to the form's own checks
    status, _ = browser.send("GET", "/api/cases/")  # reads need no token
    assert status == 200


def test_a_session_ends_after_eight_hours(client, citizen):
    with freeze_time("2026-12-03 08:00:00") as clock:
        answer = client.post("/login/", {"username": PHONE, "password": PASSWORD})
        assert answer.cookies[COOKIE]["max-age"] == 8 * 3600
        clock.tick(dt.timedelta(hours=7, minutes=50))
        assert logged_in(client)
        clock.tick(dt.timedelta(minutes=20))
        assert not logged_in(client)


def test_a_staff_session_ends_with_the_browser_and_after_idle_minutes(client, clerk):
    with freeze_time("2026-12-03 08:00:00") as clock:
        answer = client.post("/login/", {"username": "heyuan-clerk", "password": PASSWORD})
        assert answer.status_code == 302
        cookie = answer.cookies[COOKIE]
        assert not cookie["max-age"] and not cookie["expires"]  # gone when the browser closes
        for _ in range(4):  # working: a request every 20 minutes keeps the session
            clock.tick(dt.timedelta(minutes=20))
            assert logged_in(client)
        clock.tick(dt.timedelta(minutes=31))
        away = client.get("/workbench/")
        assert away.status_code == 302 and away["Location"] == "/login/?next=%2Fworkbench%2F"
        page = client.get(away["Location"]).content.decode()
        assert "您已长时间未操作，为保护账号安全已自动退出，请重新登录。" in page
        assert not logged_in(client)


def test_a_citizen_session_has_no_idle_limit(client, citizen):
    with freeze_time("2026-12-03 08:00:00") as clock:
        client.post("/login/", {"username": PHONE, "password": PASSWORD})
        clock.tick(dt.timedelta(hours=2))
        assert logged_in(client)


def test_logging_out_ends_the_session_on_the_server(client, citizen):
    client.post("/login/", {"username": PHONE, "password": PASSWORD})
    key = client.cookies[COOKIE].value
    assert Session.objects.filter(session_key=key).exists()
    client.post("/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies[COOKIE] = key  # a copy of the cookie taken before logging out
    assert not logged_in(replay)
