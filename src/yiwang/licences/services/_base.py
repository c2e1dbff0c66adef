"""What the licence services share: the row lock, the reason check, the status as of today."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.errors import InvalidInput, NotFound

from ..models import Licence

MAX_REASON = 500


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写理由。"), field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("理由不能超过%(n)d个字。") % {"n": MAX_REASON}, field="reason")
    return reason


def _lock(licence: Licence | str) -> Licence:
    identifier = licence if isinstance(licence, str) else licence.identifier
    locked = Licence.objects.select_for_update().filter(identifier=identifier).first()
    if locked is None:
        raise NotFound(_("未找到该证照。"))
    return locked


def _no_type(code: str):
    raise NotFound(_("证照类型 %(c)s 未在证照目录中登记或已停用。") % {"c": code}, field="licence_type")


def effective_status(licence: Licence, today: dt.date | None = None) -> str:
    """The status as of today, even before the nightly sweep has caught up with an expiry."""
    today = today or timezone.localdate()
    if licence.status == Licence.Status.VALID and licence.valid_until and licence.valid_until < today:
        return Licence.Status.EXPIRED
    return licence.status
