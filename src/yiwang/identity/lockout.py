"""Login throttling and lock-out (django-axes), per account and per address.

Failed logins are counted in axes' ``AccessAttempt`` rows, one per (account, address, browser). An
account is locked after ``YIWANG_LOGIN_FAILURES_PER_ACCOUNT`` failures within the lock-out window,
whatever address they came from; an address after ``YIWANG_LOGIN_FAILURES_PER_ADDRESS`` failures,
whatever accounts they named (guessing one password against many accounts). While locked, even the
right password is refused, on the portal, the admin and the API's HTTP Basic authentication alike.
"""

from __future__ import annotations

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils.translation import gettext as _

from yiwang.core.ids import is_citizen_id, normalize
from yiwang.core.sm import blind_index

from .models import phone_digest
from .selectors import login_account

# AccessAttempt.username holds at most this many characters
KEY_LENGTH = 255


def account_key(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the account a login targets, whatever identifier was typed.

    ``13800000001``, ``138 0000 0001`` and the holder's ID number all count against that account's
    user name. An identifier of no account is counted too (so that lock-out tells nothing about
    which accounts exist), an ID number then by its keyed digest: no ID number is stored in clear.
    """
    typed = (credentials or {}).get("username")
    if typed is None:
        typed = getattr(request, "POST", {}).get("username")
    if not typed:
        return None
    # axes asks several times per attempt: one look-up per request and identifier
    cache = request.__dict__.setdefault("_yiwang_login_keys", {})
    if typed not in cache:
        user = login_account(typed)
        if user is not None:
            cache[typed] = user.get_username()
        elif is_citizen_id(normalize(typed)):
            cache[typed] = "id:" + blind_index(normalize(typed))
        elif (digits := normalize(typed)).isdigit() and len(digits) == 11:  # a phone number: not kept in clear
            cache[typed] = "phone:" + phone_digest(digits)
        else:
            cache[typed] = normalize(typed)[:KEY_LENGTH]
    return cache[typed]


class LoginAttempts(AxesDatabaseHandler):
    """AXES_HANDLER: axes' database handler with a limit of its own for the account and the address."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """Failures counted against AXES_FAILURE_LIMIT (the per-account limit): the account's own, or
        the address's shifted so that it reaches the limit exactly at the per-address limit."""
        attempts = AccessAttempt.objects.filter(attempt_time__gte=request.axes_attempt_time - lockout_window())
        username = get_client_username(request, credentials)
        account = 0
        if username:
            account = attempts.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0
        address = attempts.filter(ip_address=request.axes_ip_address).aggregate(n=Sum("failures_since_start"))["n"] or 0
        return max(account, address - (settings.YIWANG_LOGIN_FAILURES_PER_ADDRESS - settings.AXES_FAILURE_LIMIT))

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A successful login clears the account's failures, not its address's: otherwise whoever has
        one account of their own could log into it now and then to keep guessing others' passwords."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def lockout_window() -> timedelta:
    return get_cool_off() or timedelta(0)


def retry_after_seconds() -> int:
    """How long a locked account or address waits, at most: every refused attempt is counted too, so
    the lock lasts one window from the last attempt."""
    return max(1, int(lockout_window().total_seconds()))


def lockout_message() -> str:
    minutes = math.ceil(retry_after_seconds() / 60)
    return _("登录失败次数过多，已暂时禁止登录，请 %(minutes)d 分钟后再试。") % {"minutes": minutes}


def is_locked_out(request) -> bool:
    """Whether axes refused (or has just locked) the login attempted in this request."""
    return bool(getattr(request, "axes_locked_out", False))
