"""The end of a case: completion (办结; an item may want its fee paid first), delivery of the result
(送达 / 出件: at the window, by post or electronically), and the applicant's withdrawal (撤回).

Locking contract: each function locks the case row (``_lock``) before it reads the state.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.errors import Conflict, InvalidInput

from ..models import (
    OPEN_STATES,
    Case,
    CaseTask,
    ClockPause,
    Delivery,
    DeliveryMethod,
    PaymentOrder,
    Status,
    WarningLevel,
)
from ..selectors import ACCEPT_ROLES, fee_settled
from ._base import _as_applicant, _as_staff, _expect, _lock, _notify_applicant, _record


def complete_case(user, case: Case | int) -> Case:
    """办结: approved / denied → completed, by staff of the department or the window clerk. An approved
    case whose item wants the fee first (``ItemVersion.fee_before_completion``) must be paid."""
    with transaction.atomic():
        case = _lock(case)
        role = _as_staff(user, case, ACCEPT_ROLES, clerk_may=True)
        _expect(case, {Status.APPROVED, Status.DENIED}, _("办结"))
        if not fee_settled(case):
            raise Conflict(_("申请人尚未缴费，暂不能办结。"))
        before = case.status
        case.status = Status.COMPLETED
        case.completed_at = timezone.now()
        case.save()
        _record(case, "completed", actor=user, role=role, before=before)
        _notify_applicant(case, _("办件已办结"), _("您申请的“%(item)s”已办结。") % {"item": case.version.name})
        return case


def deliver(
    user,
    case: Case | int,
    *,
    method: str,
    recipient: str = "",
    phone: str = "",
    address: str = "",
    carrier: str = "",
    tracking_number: str = "",
) -> Delivery:
    """送达 (出件): completed → delivered, at the window, by post (``address`` and ``tracking_number``
    required) or electronically."""
    if method not in DeliveryMethod.values:
        raise InvalidInput(_("送达方式无效。"), field="method")
    if method == DeliveryMethod.POST:
        if not address.strip():
            raise InvalidInput(_("邮寄送达须填写邮寄地址。"), field="address")
        if not tracking_number.strip():
            raise InvalidInput(_("邮寄送达须填写快递单号。"), field="tracking_number")
    with transaction.atomic():
        case = _lock(case)
        role = _as_staff(user, case, ACCEPT_ROLES, clerk_may=True)
        _expect(case, {Status.COMPLETED}, _("送达"))
        now = timezone.now()
        delivery = Delivery.objects.create(
            case=case,
            method=method,
            recipient=recipient.strip()[:60] or case.applicant_name[:60],
            phone=phone.strip()[:20],
            address=address.strip()[:200],
            carrier=carrier.strip()[:40],
            tracking_number=tracking_number.strip()[:60],
            delivered_at=now,
            delivered_by=user,
            region_code=case.region_code,
        )
        case.status = Status.DELIVERED
        case.delivered_at = now
        case.save()
        how = delivery.get_method_display()
        if method == DeliveryMethod.POST:
            how += _("，%(carrier)s 快递单号 %(t)s") % {"carrier": delivery.carrier, "t": delivery.tracking_number}
        _record(
            case,
            "delivered",
            actor=user,
            role=role,
            before=Status.COMPLETED,
            method=method,
            note=how,
            carrier=delivery.carrier,
            tracking_number=delivery.tracking_number,
        )
        _notify_applicant(
            case,
            _("办理结果已送达"),
            _("您申请的“%(item)s”办理结果已送达（%(how)s）。") % {"item": case.version.name, "how": how},
        )
        return delivery


def withdraw(user, case: Case | int, *, reason: str = "") -> Case:
    """撤回: the applicant withdraws a submitted case before the decision. Open tasks are cancelled, the
    clock stops, unpaid fee orders are cancelled."""
    with transaction.atomic():
        case = _lock(case)
        role = _as_applicant(user, case)
        _expect(case, OPEN_STATES, _("撤回"))
        now = timezone.now()
        before = case.status
        case.tasks.filter(status__in=[CaseTask.State.OPEN, CaseTask.State.CLAIMED]).update(
            status=CaseTask.State.CANCELLED, finished_at=now
        )
        ClockPause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=now, result=_("申请人撤回"))
        case.payments.filter(status=PaymentOrder.State.UNPAID).update(status=PaymentOrder.State.CANCELLED)
        case.status = Status.WITHDRAWN
        case.withdrawn_at = now
        case.withdraw_reason = (reason or "").strip()
        case.warning_level = WarningLevel.NONE
        case.save()
        _record(case, "withdrawn", actor=user, role=role, before=before, note=case.withdraw_reason)
        return case
