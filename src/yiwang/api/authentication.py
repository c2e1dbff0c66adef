"""The API's authentication: HTTP Basic with the same lock-out as the portal's login page, and the
session of the portal's login page with CSRF enforced on every write (a Chinese refusal)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.authentication import BasicScheme, SessionScheme
from rest_framework import authentication, exceptions

from yiwang.identity.lockout import is_locked_out, lockout_message, retry_after_seconds


class LockedOut(exceptions.APIException):
    """429 ``{"code": "locked_out", "detail"}``; DRF's handler sets Retry-After from ``wait``."""

    status_code = 429
    default_code = "locked_out"

    def __init__(self, detail: str, wait: int):
        super().__init__(detail, code=self.default_code)
        self.wait = wait


class BasicAuthentication(authentication.BasicAuthentication):
    """A locked account or address answers 429 ``locked_out`` with Retry-After, not "wrong password"."""

    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if is_locked_out(request):
                raise LockedOut(lockout_message(), retry_after_seconds()) from None
            raise


class LockoutBasicScheme(BasicScheme):
    """The schema names it HTTP Basic, as DRF's own."""

    target_class = "yiwang.api.authentication.BasicAuthentication"
    priority = 0


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF checks CSRF on writes of a logged-in session; its refusal says so in Chinese, as the portal's."""

    def enforce_csrf(self, request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise exceptions.PermissionDenied(_("安全校验（CSRF）未通过，请刷新页面后重试。")) from None


class CsrfSessionScheme(SessionScheme):
    target_class = "yiwang.api.authentication.SessionAuthentication"
    priority = 0
