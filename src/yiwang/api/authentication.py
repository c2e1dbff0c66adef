"""The API's HTTP Basic authentication, with the same lock-out as the portal's login page."""

from __future__ import annotations

from drf_spectacular.authentication import BasicScheme
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
