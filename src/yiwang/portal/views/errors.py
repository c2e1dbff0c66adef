"""The error pages: Chinese 400, 403, 404, 500 and CSRF-failure pages in the portal's style, and JSON
``{"code", "detail"}`` for every path under /api/, like the API's own errors (api/errors.py).

Django uses these handlers (``handler404`` … in yiwang/urls.py) only with DEBUG=0; the portal's own
"not found" answers (an unknown case number) go through ``portal.middleware.PortalErrorPageMiddleware`` so that
they are the same page with DEBUG=1 too, instead of the debug page listing every URL pattern.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from yiwang.core.errors import request_too_big
from yiwang.identity.lockout import lockout_message, retry_after_seconds
from yiwang.portal.forms import LoginForm

logger = logging.getLogger(__name__)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def api_error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})


def _message(exception: BaseException | None) -> str:
    """The Chinese message a view gave its Http404/PermissionDenied ("未找到该办件。"), if it gave one.
    The resolver's own 404 carries a dict of the patterns tried: never shown."""
    args = getattr(exception, "args", None) or ()
    return args[0] if args and isinstance(args[0], str) else ""


def bad_request(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return request_too_large(request)
    if is_api(request):
        return api_error("invalid", _("请求无法处理：地址或提交的内容有误。"), 400)
    return render(request, "400.html", status=400)


def request_too_large(request: HttpRequest) -> HttpResponse:
    """413: the body is over DATA_UPLOAD_MAX_MEMORY_SIZE (JSON under /api/, the Chinese page elsewhere)."""
    error = request_too_big()
    if is_api(request):
        return api_error(error.code, error.message, error.status)
    return render(request, "413.html", {"message": error.message}, status=error.status)


def permission_denied(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    if is_api(request):
        return api_error("forbidden", _message(exception) or _("您没有执行此操作的权限。"), 403)
    return render(request, "403.html", {"message": _message(exception)}, status=403)


def page_not_found(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    if is_api(request):
        return api_error("not_found", _message(exception) or _("未找到该资源。"), 404)
    return render(request, "404.html", {"message": _message(exception)}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """No request context and no database: whatever broke may be the database itself."""
    if is_api(request):
        return api_error("server_error", _("服务器内部错误，请稍后再试。"), 500)
    try:
        body = loader.get_template("500.html").render()
    except Exception:  # the page must never fail in turn: a plain line then
        logger.exception("the 500 page could not be rendered")
        body = "<!DOCTYPE html><title>500</title><h1>系统暂时无法处理您的请求，请稍后再试。</h1>"
    return HttpResponse(body, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: an expired or foreign form. The reason goes to the log, not to the page."""
    logger.warning("CSRF failure on %s: %s", request.path, reason)
    if is_api(request):
        return api_error("forbidden", _("安全校验（CSRF）未通过，请刷新页面后重试。"), 403)
    return render(request, "403_csrf.html", status=403)


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the answer to a login refused for too many failures, with the time to wait.

    The login page (portal or admin) has already been rendered again with the message (forms.LockoutMessage):
    it keeps its form and only gets status 429. Under /api/ (and whenever there is no page) the
    answer is built here; the API's own HTTP Basic refusal is api.authentication's."""
    if is_api(request):
        response: HttpResponse = api_error("locked_out", lockout_message(), 429)
    elif isinstance(original_response, HttpResponse):
        response = original_response
        response.status_code = 429
    else:  # axes' asynchronous path gives no response to keep: the portal's login page with the message
        form = LoginForm(request)
        form.add_error(None, lockout_message())
        response = render(request, "portal/login.html", {"form": form}, status=429)
    response["Retry-After"] = str(retry_after_seconds())
    return response
