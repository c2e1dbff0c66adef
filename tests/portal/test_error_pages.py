"""Error pages: Chinese 400/403/404/500 and CSRF pages in the portal's style; JSON under /api/.

pytest-django runs the tests with DEBUG=False, as production does; the DEBUG=1 cases set it."""

from __future__ import annotations

import json
import urllib.request
from urllib.error import HTTPError

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

from yiwang import urls as project_urls
from yiwang.portal.views.errors import server_error


def boom(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied("只有审批人可以作出决定。")


def suspicious(request):
    raise SuspiciousOperation("bad host")


def ok(request):
    return HttpResponse("ok")


# this module is the URL configuration of the tests that need a view that fails
urlpatterns = [
    path("test/boom/", boom),
    path("test/forbidden/", forbidden),
    path("test/suspicious/", suspicious),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


def text(response) -> str:
    return response.content.decode()


def assert_portal_page(html: str) -> None:
    """The page is one of ours: the portal's header and footer, in Chinese."""
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    assert '<html lang="zh-hans">' in html


@pytest.mark.django_db
def test_unknown_page_is_the_chinese_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = text(response)
    assert_portal_page(html)
    assert "页面不存在" in html and "Not Found" not in html
    assert 'href="/progress/"' in html  # a way on


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_case_number_is_the_404_page_with_and_without_debug(client, settings, world, debug):
    settings.DEBUG = debug
    client.force_login(world.user)
    response = client.get("/my/cases/NO-SUCH-CASE/")
    assert response.status_code == 404
    html = text(response)
    assert_portal_page(html)
    assert "未找到该办件。" in html
    assert "URLconf" not in html and "my/cases/&lt;str:ref&gt;/" not in html  # not the debug page


@pytest.mark.django_db
def test_staff_case_unknown_to_the_department_is_the_404_page(client, settings, world):
    settings.DEBUG = True
    client.force_login(world.handler)
    response = client.get("/workbench/cases/NO-SUCH-CASE/")
    assert response.status_code == 404 and "未找到该办件。" in text(response)
    assert_portal_page(text(response))


@pytest.mark.django_db
def test_permission_denied_is_the_chinese_403_page_with_its_message(client, settings):
    settings.ROOT_URLCONF = __name__
    response = client.get("/test/forbidden/")
    assert response.status_code == 403
    html = text(response)
    assert_portal_page(html)
    assert "无权访问" in html and "只有审批人可以作出决定。" in html and "登录后再试" in html


@pytest.mark.django_db
def test_bad_request_is_the_chinese_400_page(client, settings):
    settings.ROOT_URLCONF = __name__
    response = client.get("/test/suspicious/")
    assert response.status_code == 400
    html = text(response)
    assert_portal_page(html)
    assert "请求有误" in html and "Bad Request" not in html


def test_500_page_renders_without_database_or_request_context(settings):
    """No django_db mark: any query would raise. The page is still the portal's, in Chinese."""
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    response = client.get("/test/boom/")
    assert response.status_code == 500
    html = text(response)
    assert_portal_page(html)
    assert "系统暂时无法处理您的请求" in html and "12345" in html
    assert "Server Error" not in html and "a bug" not in html

    # the handler itself, given nothing but a request
    direct = server_error(RequestFactory().get("/anything/"))
    assert direct.status_code == 500 and "系统暂时无法处理您的请求" in direct.content.decode()


@pytest.mark.django_db
def test_csrf_failure_is_the_chinese_page(settings):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = text(response)
    assert_portal_page(html)
    assert "页面已过期" in html and "CSRF verification failed" not in html


def call(url: str, method: str, body: bytes | None = None) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], json.loads(exc.read())


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_every_unmatched_api_path_answers_json_404_whatever_the_method(live_server, settings, debug):
    settings.DEBUG = debug
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        for api_path in ("/api/no-such-thing/", "/api/", "/api/licences/keys/a/b/c/"):
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            status, content_type, answer = call(live_server.url + api_path, method, body)
            assert (status, content_type) == (404, "application/json"), (method, api_path)
            assert answer["code"] == "not_found" and api_path in answer["detail"]


@pytest.mark.django_db
def test_api_path_without_its_final_slash_says_where_the_endpoint_is(live_server):
    status, _, answer = call(live_server.url + "/api/licences/keys", "GET")
    assert status == 404 and answer == {"code": "not_found", "detail": "接口地址以“/”结尾：/api/licences/keys/。"}


@pytest.mark.django_db
def test_drf_errors_carry_a_code_like_ours(live_server):
    status, _, answer = call(live_server.url + "/api/licences/", "GET")  # the wallet needs a login
    assert status in (401, 403)
    assert answer["code"] == "not_authenticated" and answer["detail"]
