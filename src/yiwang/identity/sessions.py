"""How long a login lasts. Everyone's session ends SESSION_COOKIE_AGE after it was last written
(8 hours by default: a working day, then log in again). Staff sessions, which can read other people's
data, also end when the browser closes and after YIWANG_STAFF_IDLE_MINUTES without a request, so
that a window-desk computer left alone does not stay logged in."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .selectors import is_staff_account

IDLE_KEY = "yiwang_idle_limit"  # seconds; only in staff sessions
SEEN_KEY = "yiwang_seen"  # epoch seconds of the last request that counted
# the last-seen time is written at most this often: not a session write on every request
SEEN_GRANULARITY = 60


def on_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """user_logged_in: a staff session gets the idle limit and a cookie that ends with the browser."""
    if request is None or not hasattr(request, "session") or not is_staff_account(user):
        return
    request.session.set_expiry(0)  # the cookie: until the browser closes; the server keeps SESSION_COOKIE_AGE
    request.session[IDLE_KEY] = settings.YIWANG_STAFF_IDLE_MINUTES * 60
    request.session[SEEN_KEY] = int(timezone.now().timestamp())


class StaffIdleTimeoutMiddleware:
    """Logs a staff session out after the idle limit: the page asks to log in again (with a message),
    the API answers as to an anonymous caller."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        limit = session.get(IDLE_KEY) if SESSION_KEY in session else None
        if limit:
            now = int(timezone.now().timestamp())
            seen = session.get(SEEN_KEY, now)
            if now - seen > limit:
                logout(request)
                if not request.path_info.startswith("/api/"):
                    messages.info(request, _("您已长时间未操作，为保护账号安全已自动退出，请重新登录。"))
                    return redirect(reverse("portal:login") + "?" + urlencode({"next": request.get_full_path()}))
            elif now - seen >= SEEN_GRANULARITY:
                session[SEEN_KEY] = now
        return self.get_response(request)
