"""A licence's life after issue: change and renew (a new sealed version, the old one superseded), suspend,
resume, revoke, expire, and the reminder before expiry. Each function locks the licence row first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core import audit
from yiwang.core.errors import Conflict, InvalidInput
from yiwang.core.notify import notify

from ..models import Licence
from ._base import _lock, _reason
from .holders import (
    Holder,
    _check_issuer_staff,
    holder_recipients,
)
from .issuing import (
    _summary,
    add_years,
    build_licence,
    sealer_for,
)


def _new_version(old: Licence, *, actor, reason: str, origin: str, **changes: Any) -> Licence:
    """Seal version n+1 from ``old`` with ``changes`` and mark ``old`` superseded (caller holds the lock)."""
    today = timezone.localdate()
    holder = Holder(
        changes.pop("holder_name", old.holder_name),
        old.holder_code,
        old.holder_code_type,
        person=old.holder_person,
        organisation=old.holder_org,
    )
    new = build_licence(
        licence_type=old.licence_type,
        issuer=old.issuer,
        holder=holder,
        data=changes.pop("data", old.data),
        serial=old.serial,
        sealer=sealer_for(old.issuer),
        issue_date=today,
        valid_from=changes.pop("valid_from", old.valid_from),
        valid_until=changes.pop("valid_until", old.valid_until),
        region_code=old.region_code,
        number=old.number,
        version=old.version + 1,
        origin=origin,
        case_id=old.case_id,
        case_number=old.case_number,
        status=changes.pop("status", Licence.Status.VALID),
    )
    new.previous = old
    before = old.status
    old.status = Licence.Status.SUPERSEDED
    old.status_reason = reason
    old.status_changed_at = timezone.now()
    old.save(update_fields=["status", "status_reason", "status_changed_at"])
    new.save(force_insert=True)
    audit.record(
        old,
        "licence.superseded",
        actor=actor,
        role="issuer" if actor else "system",
        data={"before": {"status": before}, "after": {"status": old.status}, "status": old.status,
              "reason": reason, "next": new.identifier},
    )  # fmt: skip
    audit.record(
        new,
        f"licence.{origin}",
        actor=actor,
        role="issuer" if actor else "system",
        data={**_summary(new), "reason": reason, "previous": old.identifier},
    )
    return new


def change_licence(
    licence: Licence | str,
    *,
    actor,
    reason: str,
    data: dict[str, Any] | None = None,
    holder_name: str | None = None,
) -> Licence:
    """变更: seal a new version with changed 照面信息 (and/or holder name) and supersede the old one."""
    reason = _reason(reason)
    with transaction.atomic():
        old = _lock(licence)
        _check_issuer_staff(actor, old)
        if old.status not in (Licence.Status.VALID, Licence.Status.SUSPENDED):
            raise Conflict(_("证照当前状态为“%(s)s”，不能变更。") % {"s": old.get_status_display()})
        changes: dict[str, Any] = {}
        if data is not None:
            changes["data"] = {**old.data, **data}
        if holder_name is not None and holder_name.strip():
            changes["holder_name"] = holder_name.strip()
        if not changes or all(
            (k == "data" and v == old.data) or (k == "holder_name" and v == old.holder_name) for k, v in changes.items()
        ):
            raise InvalidInput(_("没有需要变更的内容。"), field="data")
        # a suspended licence stays suspended in its new version
        return _new_version(old, actor=actor, reason=reason, origin=Licence.Origin.CHANGE, status=old.status, **changes)


def renew_licence(licence: Licence | str, *, actor, reason: str, valid_until: dt.date | None = None) -> Licence:
    """延续: seal a new version whose validity follows on from the old one (or starts today if lapsed)."""
    reason = _reason(reason)
    today = timezone.localdate()
    with transaction.atomic():
        old = _lock(licence)
        _check_issuer_staff(actor, old)
        if old.status not in (Licence.Status.VALID, Licence.Status.EXPIRED):
            raise Conflict(_("证照当前状态为“%(s)s”，不能延续。") % {"s": old.get_status_display()})
        if old.valid_until is None:
            raise Conflict(_("该证照长期有效，无需延续。"))
        start = max(old.valid_until + dt.timedelta(days=1), today) if old.valid_until >= today else today
        years = old.licence_type.validity_years
        if valid_until is None:
            if not years:
                raise InvalidInput(_("请填写新的有效期截止日期。"), field="valid_until")
            valid_until = add_years(start, years)
        if valid_until <= old.valid_until or valid_until < start:
            raise InvalidInput(_("新的有效期截止日期应晚于原截止日期。"), field="valid_until")
        return _new_version(
            old, actor=actor, reason=reason, origin=Licence.Origin.RENEWAL, valid_from=start, valid_until=valid_until
        )


def _set_status(
    licence: Licence | str, new_status: str | Callable[[Licence], str], *, allowed: tuple[str, ...], action: str,
    actor, reason: str,
) -> Licence:  # fmt: skip
    reason = _reason(reason)
    with transaction.atomic():
        locked = _lock(licence)
        _check_issuer_staff(actor, locked)
        if locked.status not in allowed:
            raise Conflict(
                _("证照当前状态为“%(s)s”，不能%(a)s。")
                % {"s": locked.get_status_display(), "a": ACTION_LABELS.get(action, action)}
            )
        before = locked.status
        if callable(new_status):
            new_status = new_status(locked)
        locked.status = new_status
        locked.status_reason = reason
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "status_changed_at"])
        audit.record(
            locked,
            f"licence.{action}",
            actor=actor,
            role="issuer" if actor else "system",
            data={
                "before": {"status": before},
                "after": {"status": new_status},
                "status": new_status,
                "reason": reason,
            },
        )
    return locked


ACTION_LABELS = {"suspended": gettext_lazy("暂扣"), "resumed": gettext_lazy("恢复"), "revoked": gettext_lazy("撤销")}


def suspend_licence(licence: Licence | str, *, actor, reason: str) -> Licence:
    """暂扣: the licence stays genuine but is not valid until resumed."""
    return _set_status(
        licence,
        Licence.Status.SUSPENDED,
        allowed=(Licence.Status.VALID,),
        action="suspended",
        actor=actor,
        reason=reason,
    )


def resume_licence(licence: Licence | str, *, actor, reason: str) -> Licence:
    """恢复 a suspended licence (to expired if its validity ended meanwhile)."""

    def target(locked: Licence) -> str:
        lapsed = locked.valid_until is not None and locked.valid_until < timezone.localdate()
        return Licence.Status.EXPIRED if lapsed else Licence.Status.VALID

    return _set_status(
        licence, target, allowed=(Licence.Status.SUSPENDED,), action="resumed", actor=actor, reason=reason
    )


def revoke_licence(licence: Licence | str, *, actor, reason: str) -> Licence:
    """撤销 / 注销: final."""
    return _set_status(
        licence,
        Licence.Status.REVOKED,
        allowed=(Licence.Status.VALID, Licence.Status.SUSPENDED, Licence.Status.EXPIRED),
        action="revoked",
        actor=actor,
        reason=reason,
    )


REMIND_DAYS = 30


def expire_due_licences(today: dt.date | None = None) -> int:
    """Mark every valid licence whose validity ended before ``today`` expired. Returns the count."""
    today = today or timezone.localdate()
    ids = list(
        Licence.objects.filter(status=Licence.Status.VALID, valid_until__lt=today).values_list("identifier", flat=True)
    )
    done = 0
    for identifier in ids:
        with transaction.atomic():
            locked = Licence.objects.select_for_update().filter(identifier=identifier).first()
            if locked is None or locked.status != Licence.Status.VALID or locked.valid_until >= today:
                continue
            locked.status = Licence.Status.EXPIRED
            locked.status_reason = _("有效期已届满")
            locked.status_changed_at = timezone.now()
            locked.save(update_fields=["status", "status_reason", "status_changed_at"])
            audit.record(
                locked,
                "licence.expired",
                data={"before": {"status": "valid"}, "after": {"status": "expired"}, "status": "expired"},
            )
            done += 1
    return done


def remind_expiring_licences(today: dt.date | None = None, days: int = REMIND_DAYS) -> int:
    """Tell holders once per licence that it expires within ``days`` days. Returns the count."""
    today = today or timezone.localdate()
    due = Licence.objects.filter(
        status=Licence.Status.VALID,
        valid_until__gte=today,
        valid_until__lte=today + dt.timedelta(days=days),
        expiry_reminded_at__isnull=True,
    ).values_list("identifier", flat=True)
    sent = 0
    for identifier in list(due):
        with transaction.atomic():
            locked = Licence.objects.select_for_update().filter(identifier=identifier).first()
            if locked is None or locked.expiry_reminded_at is not None:
                continue
            subject = _("证照即将到期")
            body = _("您的%(name)s（编号 %(number)s）将于 %(date)s 到期，请及时办理延续。") % {
                "name": locked.name,
                "number": locked.number,
                "date": locked.valid_until.isoformat(),
            }
            for user, phone in holder_recipients(locked):
                if user is not None or phone:
                    notify(user, subject, body, recipient=phone)
            locked.expiry_reminded_at = timezone.now()
            locked.save(update_fields=["expiry_reminded_at"])
            audit.record(locked, "licence.expiry_reminded", data={"valid_until": locked.valid_until})
            sent += 1
    return sent
