"""Fee payment (非税缴费) through a payment provider that is not ours.

A provider sends the payer to its cashier (``checkout_url``) and later notifies the platform with a
signed callback, which ``yiwang.cases.services.handle_payment_callback`` passes to ``parse_callback``
for verification. ``settings.YIWANG_PAYMENT_PROVIDER`` names the provider class.

``DevPaymentProvider`` stands in for the real one in development, tests and the demo: its "cashier"
is the platform's own endpoint, and ``simulate_callback`` produces exactly the message a provider
would send — a JSON body signed with SM2 (the provider's key, held under the owner "payment-dev") —
so that the verifying code path is the production one.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from yiwang.core import keys
from yiwang.core.errors import Forbidden, InvalidInput
from yiwang.core.jsonin import parse_json
from yiwang.core.models import SigningKey
from yiwang.core.sm import sm2_verify


@dataclass(frozen=True)
class PaymentNotice:
    """What a verified provider callback says."""

    order_number: str
    paid: bool
    amount: Decimal
    provider_reference: str
    paid_at: dt.datetime


class PaymentProvider(ABC):
    name: str

    @abstractmethod
    def checkout_url(self, order) -> str:
        """Where the payer goes to pay ``order`` (a cases.PaymentOrder)."""

    @abstractmethod
    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentNotice:
        """Verify the signature of a callback and read it. Raises Forbidden when the signature is wrong."""


class DevPaymentProvider(PaymentProvider):
    name = "dev"
    KEY_OWNER = "payment-dev"
    KEY_HEADER = "X-Pay-Key-Id"
    SIGNATURE_HEADER = "X-Pay-Signature"

    def checkout_url(self, order) -> str:
        return reverse("cases-dev-pay", kwargs={"order_number": order.number})

    def simulate_callback(self, order, *, paid: bool = True) -> tuple[bytes, dict[str, str]]:
        """The signed notification the provider would POST to the callback endpoint after payment."""
        body = json.dumps(
            {
                "order_number": order.number,
                "status": "SUCCESS" if paid else "FAILED",
                "amount": f"{order.amount:.2f}",
                "transaction_id": "DEV" + uuid.uuid4().hex[:20].upper(),
                "paid_at": timezone.now().isoformat(),
            },
            ensure_ascii=False,
            sort_keys=True,
        ).encode()
        key_id, signature = keys.sign(self.KEY_OWNER, body)
        return body, {self.KEY_HEADER: key_id, self.SIGNATURE_HEADER: base64.b64encode(signature).decode()}

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentNotice:
        lowered = {k.lower(): v for k, v in headers.items()}
        key_id = lowered.get(self.KEY_HEADER.lower(), "")
        try:
            signature = base64.b64decode(lowered.get(self.SIGNATURE_HEADER.lower(), ""), validate=True)
        except ValueError:
            signature = b""
        key = SigningKey.objects.filter(owner=self.KEY_OWNER, key_id=key_id).first()
        if key is None or not signature or not sm2_verify(bytes(key.public_key), body, signature):
            raise Forbidden(_("支付回调签名验证失败。"))
        try:
            data = parse_json(body, label=_("支付回调内容"))
            return PaymentNotice(
                order_number=str(data["order_number"]),
                paid=data["status"] == "SUCCESS",
                amount=Decimal(str(data["amount"])),
                provider_reference=str(data["transaction_id"]),
                paid_at=dt.datetime.fromisoformat(data["paid_at"]),
            )
        except (KeyError, ValueError, TypeError, InvalidOperation):
            raise InvalidInput(_("支付回调内容格式错误。")) from None


def get_provider() -> PaymentProvider:
    return import_string(settings.YIWANG_PAYMENT_PROVIDER)()
