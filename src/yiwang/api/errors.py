"""The one place where business errors become HTTP answers (4xx with a Chinese message)."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from yiwang.core.errors import InvalidInput, YiwangError, invalid_fields, request_too_big


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):  # a multipart field over the limit, found while DRF parses
        exc = request_too_big()
    if isinstance(exc, YiwangError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        body = {"code": "invalid", "detail": "；".join(exc.messages)}
        if hasattr(exc, "error_dict"):
            body["errors"] = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DRFValidationError):  # a serializer's errors, by field or as a list
        detail = exc.detail
        exc = invalid_fields(detail) if isinstance(detail, dict) else InvalidInput("；".join(map(str, detail)))
        return Response(exc.as_dict(), status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and set(response.data) == {"detail"}:
        # DRF's own errors (404 of a lookup, 401, 403, 405, 429) answer in the same shape as ours
        code = getattr(response.data["detail"], "code", None) or "invalid"
        response.data = {"code": DRF_CODES.get(code, code), "detail": response.data["detail"]}
    return response


DRF_CODES = {"permission_denied": "forbidden"}


@csrf_exempt
def unknown_endpoint(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Every /api/ path that no route matches, whatever the method: JSON 404, never an HTML page."""
    detail = _("没有这个接口：%(method)s %(path)s。接口列表见 /api/docs/。") % {
        "method": request.method,
        "path": request.path,
    }
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not unknown_endpoint:
            detail = _("接口地址以“/”结尾：%(path)s/。") % {"path": request.path}
    body = {"code": "not_found", "detail": detail}
    return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
