"""The one place where business errors become HTTP answers (4xx with a Chinese message)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from yiwang.core.errors import YiwangError


def exception_handler(exc, context):
    if isinstance(exc, YiwangError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        body = {"code": "invalid", "detail": "；".join(exc.messages)}
        if hasattr(exc, "error_dict"):
            body["errors"] = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
