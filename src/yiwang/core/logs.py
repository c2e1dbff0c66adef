"""Structured logs: one JSON line per request (logger ``yiwang.request``), the security events
(``yiwang.security``: refused logins, refused access, throttled callers), and the filter that masks
ID numbers and phone numbers in every line before any handler writes it (docs/operations.md, "Logs")."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from .http import client_ip
from .ids import mask_citizen_id, mask_phone

request_log = logging.getLogger("yiwang.request")
security_log = logging.getLogger("yiwang.security")

# An 18-character ID number (GB 11643, last character a digit or X) or an old 15-digit one, and a
# mainland mobile number, each standing alone: a case number or credit code that merely contains
# such a run of digits is left as it is.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])")


def mask_personal_data(text: str) -> str:
    """``text`` with every ID number and mobile number in it masked (441602********1231, 138****0001)."""
    text = ID_NUMBER.sub(lambda m: mask_citizen_id(m.group()), text)
    return PHONE.sub(lambda m: mask_phone(m.group()[-11:]), text)


# attributes every LogRecord has: the rest were given as ``extra`` and are written as fields
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class MaskPersonalData(logging.Filter):
    """Masks the message, its arguments, the extra fields and the traceback of every record, in place:
    what one handler writes, no other handler writes unmasked."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask_personal_data(record.getMessage()), ()
        for key, value in list(vars(record).items()):
            if key in _RECORD_ATTRS or value is None or isinstance(value, bool | int | float):
                continue
            value = getattr(value, "_request", value)  # DRF's Request wraps Django's
            if isinstance(value, HttpRequest):
                # Django's own loggers attach the request: its method and path, never its query string
                value = f"{value.method} {value.path}"
            setattr(record, key, mask_personal_data(str(value)))
        if record.exc_info:
            # formatted once here, so that formatters write the masked text instead of their own
            record.exc_text = mask_personal_data(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


def user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id, if the request already looked at its user (no query for the log)."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


def request_fields(request: HttpRequest) -> dict[str, Any]:
    # the path without its query string: queries carry search words and the progress query's digits
    return {"method": request.method, "path": request.path, "user_id": user_id(request), "client": client_ip(request)}


SECURITY_EVENTS = {401: "access_refused", 403: "access_refused", 429: "throttled"}


class RequestLogMiddleware:
    """One line per request: method, path, status, duration in ms, user id and client address; a
    refusal (401/403) or a throttled call (429) also as a security event."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        fields = request_fields(request) | {"status": response.status_code}
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request_log.info("request", extra={"event": "request", **fields, "duration_ms": duration_ms})
        if event := SECURITY_EVENTS.get(response.status_code):
            security_log.warning(event, extra={"event": event, **fields})
        return response


def log_refused_login(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs) -> None:
    """Receiver of ``user_login_failed`` (portal, admin and API Basic auth all authenticate through it).
    Django has already replaced the password in ``credentials``; the account name is masked by the filter."""
    # the HttpRequest itself: asking DRF's Request for its user here would authenticate it once more
    http = getattr(request, "_request", request)
    fields = {"method": http.method, "path": http.path, "client": client_ip(http)} if http is not None else {}
    account = str(credentials.get("username", ""))
    security_log.warning("login_failed", extra={"event": "login_failed", "account": account, **fields})
