"""Business errors. Services raise them; the API and the portal turn them into 4xx answers in one place."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from yiwang.core.text import clause


class YiwangError(Exception):
    """Base of every business error: a Chinese message for the user, an HTTP status, optional field."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: dict | list | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors
        # further facts for the client, e.g. the draft that kept a failed submission's uploads
        self.extra = extra or {}

    def as_dict(self) -> dict:
        body: dict = {"code": self.code, "detail": self.message}
        if self.field:
            body["field"] = self.field
        if self.errors is not None:
            body["errors"] = self.errors
        body.update({k: v for k, v in self.extra.items() if k not in body})
        return body


class InvalidInput(YiwangError):
    status = 400
    code = "invalid"


class NotFound(YiwangError):
    status = 404
    code = "not_found"


class Forbidden(YiwangError):
    status = 403
    code = "forbidden"


class Conflict(YiwangError):
    """An invalid state transition, a concurrent change, or a rule of the domain that forbids the act."""

    status = 409
    code = "conflict"


class TooLarge(YiwangError):
    status = 413
    code = "too_large"


def invalid_fields(errors: dict) -> InvalidInput:
    """A serializer's or form's errors ({field: [messages]}) as one InvalidInput whose message names
    every field; ``field`` is set when there is only one."""
    joined = {str(k): "；".join(str(m) for m in (v if isinstance(v, list | tuple) else [v])) for k, v in errors.items()}
    named = "；".join(_("字段 %(f)s：%(e)s") % {"f": k, "e": clause(v)} for k, v in joined.items())
    return InvalidInput(
        _("请求参数有误：%(e)s") % {"e": named},
        field=next(iter(joined)) if len(joined) == 1 else None,
        errors=joined,
    )


def request_too_big() -> TooLarge:
    """Django's RequestDataTooBig (a body over DATA_UPLOAD_MAX_MEMORY_SIZE) as the platform's 413,
    with the limit in the message."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    megabytes = f"{limit / (1024 * 1024):.1f}".removesuffix(".0")
    return TooLarge(_("提交的内容过大：一次请求最多 %(n)s MB。") % {"n": megabytes})
