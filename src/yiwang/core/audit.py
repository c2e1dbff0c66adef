"""The append-only audit store: one SM3 hash chain per subject (case, licence, grant, …).

``record`` must run inside the caller's transaction, after the caller has locked the subject row
(``select_for_update``): the lock orders concurrent writers of one subject, and the unique
(subject, seq) constraint refuses a fork should a caller forget it. Subjects never wait for each other.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .models import AuditEvent
from .sm import sm3_hex

GENESIS = "0" * 64


def canonical(payload: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8, ISO dates: the serialisation that is hashed."""
    return json.dumps(
        payload, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()


def event_hash(event: AuditEvent) -> str:
    payload = {
        "subject_type": event.subject_type,
        "subject_id": str(event.subject_id),
        "seq": event.seq,
        "action": event.action,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "at": event.at.astimezone(dt.UTC).isoformat() if event.at else None,
        "data": event.data,
        "region_code": event.region_code,
        "prev_hash": event.prev_hash,
    }
    return sm3_hex(canonical(payload))


def subject_key(subject: models.Model | tuple[str, Any]) -> tuple[str, str]:
    if isinstance(subject, tuple):
        return subject[0], str(subject[1])
    return subject._meta.label_lower, str(subject.pk)


def record(
    subject: models.Model | tuple[str, Any],
    action: str,
    *,
    actor: Any = None,
    role: str = "",
    data: dict[str, Any] | None = None,
    region_code: str = "",
) -> AuditEvent:
    """Append one event to the subject's chain. ``actor`` is a user, a string, or None (the system)."""
    subject_type, subject_id = subject_key(subject)
    if actor is None:
        actor_name = "system"
    elif isinstance(actor, str):
        actor_name = actor
    else:
        actor_name = getattr(actor, "username", str(actor))
    with transaction.atomic():
        last = (
            AuditEvent.objects.filter(subject_type=subject_type, subject_id=subject_id)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        event = AuditEvent(
            subject_type=subject_type,
            subject_id=subject_id,
            seq=seq,
            action=action,
            actor=actor_name,
            actor_role=role,
            at=timezone.now(),
            # round-trip through JSON so that the stored value hashes the same when read back
            data=json.loads(canonical(data or {})),
            region_code=region_code or ("" if isinstance(subject, tuple) else getattr(subject, "region_code", "")),
            prev_hash=prev,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
    return event


def history(subject: models.Model | tuple[str, Any]) -> models.QuerySet[AuditEvent]:
    subject_type, subject_id = subject_key(subject)
    return AuditEvent.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("seq")
