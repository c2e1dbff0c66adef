"""Fees (非税缴费): payment orders, the applicant's payment through the provider's cashier, the
provider's signed callback, and the development cashier.

Locking contract: ``create_payment_order`` and ``handle_payment_callback`` lock the case row first;
the callback then locks the order row, so that repeated or concurrent notices mark an order paid once.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.errors import Conflict, InvalidInput, NotFound

from .. import selectors
from ..models import OPEN_STATES, Case, PaymentOrder, Status
from ..payments import DevPaymentProvider, get_provider
from ._base import _as_staff, _expect, _lock, _notify_applicant, _record


def _create_order(case: Case, amount: Decimal) -> PaymentOrder:
    return PaymentOrder.objects.create(
        number=f"{case.number}-P{case.payments.count() + 1}",
        case=case,
        amount=amount,
        provider=get_provider().name,
        region_code=case.region_code,
    )


def create_payment_order(user, case: Case | int, *, amount: Decimal | str | None = None) -> PaymentOrder:
    """A fee order for the case (default: the item version's fee), by staff of its department. One unpaid
    order per case at a time. (An approved case with a fee gets one automatically from ``decide``.)"""
    with transaction.atomic():
        case = _lock(case)
        role = _as_staff(user, case, selectors.ACCEPT_ROLES, clerk_may=True)
        _expect(case, OPEN_STATES | {Status.APPROVED, Status.COMPLETED}, _("开具缴费单"))
        try:
            value = Decimal(str(amount)) if amount not in (None, "") else case.version.fee
        except ArithmeticError:
            raise InvalidInput(_("金额格式不正确。"), field="amount") from None
        if value <= 0:
            raise InvalidInput(_("缴费金额须大于零。"), field="amount")
        if case.payments.filter(status=PaymentOrder.State.UNPAID).exists():
            raise Conflict(_("该办件已有待缴费的缴费单。"))
        order = _create_order(case, value.quantize(Decimal("0.01")))
        _record(
            case,
            "payment_ordered",
            actor=user,
            role=role,
            before=case.status,
            order=order.number,
            amount=str(order.amount),
        )
        _notify_applicant(
            case, _("请缴纳费用"), _("请缴纳“%(item)s”费用 %(a)s 元。") % {"item": case.version.name, "a": order.amount}
        )
        return order


def _order_for_applicant(user, order: PaymentOrder | str) -> PaymentOrder:
    number = order.number if isinstance(order, PaymentOrder) else str(order)
    found = PaymentOrder.objects.filter(number=number, case__in=selectors.cases_for_applicant(user)).first()
    if found is None:
        raise NotFound(_("未找到该缴费单。"))
    return found


def start_payment(user, order: PaymentOrder | str) -> str:
    """The provider's cashier URL for the applicant's unpaid order."""
    found = _order_for_applicant(user, order)
    if found.status != PaymentOrder.State.UNPAID:
        raise Conflict(_("该缴费单%(s)s，无需再缴费。") % {"s": found.get_status_display()})
    return get_provider().checkout_url(found)


def simulate_payment(user, order: PaymentOrder | str) -> PaymentOrder:
    """Development cashier: the applicant "pays", the DevPaymentProvider sends its signed callback, and
    the callback is handled exactly like a real one. Refused unless the dev provider is configured."""
    provider = get_provider()
    if not isinstance(provider, DevPaymentProvider):
        raise NotFound(_("模拟支付仅在开发环境可用。"))
    found = _order_for_applicant(user, order)
    if found.status != PaymentOrder.State.UNPAID:
        raise Conflict(_("该缴费单%(s)s，无需再缴费。") % {"s": found.get_status_display()})
    body, headers = provider.simulate_callback(found)
    return handle_payment_callback(provider.name, body, headers)


def handle_payment_callback(provider_name: str, body: bytes, headers: Mapping[str, str]) -> PaymentOrder:
    """The provider's notification: verified by signature (Forbidden if wrong), then the order is marked
    paid. Idempotent: the same notice again returns the paid order unchanged."""
    provider = get_provider()
    if provider.name != provider_name:
        raise NotFound(_("未知的支付渠道。"))
    notice = provider.parse_callback(body, headers)
    with transaction.atomic():
        order = PaymentOrder.objects.filter(number=notice.order_number).first()
        if order is None:
            raise NotFound(_("未找到该缴费单。"))
        case = _lock(order.case_id)
        order = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if order.status == PaymentOrder.State.PAID:
            if order.provider_reference == notice.provider_reference:
                return order
            raise Conflict(_("该缴费单已缴费，重复的支付通知未处理。"))
        if order.status != PaymentOrder.State.UNPAID:
            raise Conflict(_("该缴费单已取消。"))
        if notice.amount != order.amount:
            raise Conflict(_("支付金额与缴费单金额不一致。"))
        if not notice.paid:
            return order
        order.status = PaymentOrder.State.PAID
        order.paid_at = timezone.now()
        order.provider = provider.name
        order.provider_reference = notice.provider_reference
        order.save()
        _record(
            case,
            "payment_paid",
            actor=f"payment:{provider.name}",
            role="payment_provider",
            before=case.status,
            order=order.number,
            amount=str(order.amount),
            provider_reference=order.provider_reference,
        )
        return order
