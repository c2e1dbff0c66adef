"""Notifications to applicants and staff (SMS / email). The gateway is not ours: it sits behind
``Notifier``; the console backend prints and keeps the message in the user's inbox."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .ids import mask_phone
from .models import Notification

log = logging.getLogger("yiwang.notify")


class Notifier:
    def deliver(self, notification: Notification) -> None:
        raise NotImplementedError


class ConsoleNotifier(Notifier):
    """Development backend: logs the message instead of calling an SMS gateway."""

    def deliver(self, notification: Notification) -> None:
        recipient = notification.recipient
        shown = mask_phone(recipient) if recipient.isdigit() else recipient  # logs carry no phone number
        log.info("[%s → %s] %s: %s", notification.channel, shown, notification.subject, notification.body)


def get_notifier() -> Notifier:
    return import_string(settings.YIWANG_NOTIFIER)()


def notify(user, subject: str, body: str, *, channel: str = "sms", recipient: str = "") -> Notification:
    """Store the message now and hand it to the gateway once the transaction commits."""
    note = Notification.objects.create(
        user=user if getattr(user, "pk", None) else None,
        channel=channel,
        recipient=recipient or getattr(user, "phone", "") or getattr(user, "email", ""),
        subject=subject,
        body=body,
    )

    def _send() -> None:
        get_notifier().deliver(note)
        Notification.objects.filter(pk=note.pk).update(sent_at=timezone.now())

    transaction.on_commit(_send)
    return note
