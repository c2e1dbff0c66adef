"""The append-only audit store: one SM3 hash chain per subject (case, licence, grant, …).

``record`` must run inside the caller's transaction, after the caller has locked the subject row
(``select_for_update``): the lock orders concurrent writers of one subject, and the unique
(subject, seq) constraint refuses a fork should a caller forget it. Subjects never wait for each other.

Periodically a checkpoint (``services.create_checkpoint``) seals the new events of all subjects into
one SM3 Merkle root signed with the platform's SM2 key; ``yiwang verify-audit`` (``verify.py``)
re-hashes every chain and every checkpoint.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .bulk import insert_many
from .models import AuditCheckpoint, AuditEvent
from .sm import sm3, sm3_hex

GENESIS = "0" * 64


def canonical(payload: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8, ISO dates: the serialisation that is hashed."""
    return json.dumps(
        payload, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()


def event_hash(event: AuditEvent) -> str:
    """SM3 of the event's canonical form, which includes ``prev_hash`` (the chain link)."""
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


def subject_label(subject_type: str, subject_id: str) -> str:
    return f"{subject_type}:{subject_id}"


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
    actor_name = _actor_name(actor)
    with transaction.atomic():
        last = (
            AuditEvent.objects.filter(subject_type=subject_type, subject_id=subject_id)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        event = next_event(
            subject_type,
            subject_id,
            last,
            action=action,
            actor=actor_name,
            role=role,
            at=timezone.now(),
            data=data,
            region_code=region_code or ("" if isinstance(subject, tuple) else getattr(subject, "region_code", "")),
        )
        event.save(force_insert=True)
    return event


def next_event(
    subject_type: str,
    subject_id: str,
    last: tuple[int, str] | None,
    *,
    action: str,
    actor: str,
    role: str,
    at: dt.datetime,
    data: dict[str, Any] | None,
    region_code: str,
) -> AuditEvent:
    """The (unsaved, hashed) event that follows ``last`` (seq, hash; None for a new chain) in the subject's
    chain: one construction for ``record``, ``record_many`` and the licence import's first events."""
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    event = AuditEvent(
        subject_type=subject_type,
        subject_id=subject_id,
        seq=seq,
        action=action,
        actor=actor,
        actor_role=role,
        at=at,
        # round-trip through JSON so that the stored value hashes the same when read back
        data=json.loads(canonical(data or {})),
        region_code=region_code,
        prev_hash=prev,
    )
    event.hash = event_hash(event)
    return event


def _actor_name(actor: Any) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return getattr(actor, "username", str(actor))


@dataclass(frozen=True)
class StatefulSubject:
    """A model whose every row has a chain, and whose state column its chain's events record:
    ``state_of`` gives the state an event's data records, or None when the event records none (a
    licence's use). ``verify-audit`` checks each row against its chain."""

    model: type[models.Model]
    field: str
    state_of: Callable[[dict[str, Any]], Any]


STATEFUL: dict[str, StatefulSubject] = {}


def register_stateful(model: type[models.Model], field: str, state_of: Callable[[dict[str, Any]], Any]) -> None:
    """Called by a domain app at start-up (core knows no domain)."""
    STATEFUL[model._meta.label_lower] = StatefulSubject(model, field, state_of)


# subjects per head query: far below every backend's limit of bound parameters
BULK_CHUNK = 1000


def record_many(
    subject_type: str,
    action: str,
    entries: list[tuple[Any, dict[str, Any], str]],
    *,
    actor: Any = None,
    role: str = "",
) -> list[AuditEvent]:
    """Append one event to each of many subjects' chains at once: ``entries`` are (subject id, data,
    region code), each subject at most once. Same contract as ``record`` (inside the caller's
    transaction, subject rows locked by the caller); the chain heads are read in one query and the
    events inserted in one, per ``BULK_CHUNK`` subjects, so a sweep's cost does not grow per subject."""
    ids = [str(subject_id) for subject_id, _data, _region in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("record_many: a subject appears twice")
    actor_name = _actor_name(actor)
    now = timezone.now()
    events: list[AuditEvent] = []
    with transaction.atomic():
        for start in range(0, len(entries), BULK_CHUNK):
            chunk = entries[start : start + BULK_CHUNK]
            chunk_ids = ids[start : start + BULK_CHUNK]
            last_seq = (
                AuditEvent.objects.filter(subject_type=subject_type, subject_id=OuterRef("subject_id"))
                .order_by("-seq")
                .values("seq")[:1]
            )
            heads = {
                subject_id: (seq, hash_)
                for subject_id, seq, hash_ in AuditEvent.objects.filter(
                    subject_type=subject_type, subject_id__in=chunk_ids, seq=Subquery(last_seq)
                ).values_list("subject_id", "seq", "hash")
            }
            batch = [
                next_event(
                    subject_type,
                    subject_id,
                    heads.get(subject_id),
                    action=action,
                    actor=actor_name,
                    role=role,
                    at=now,
                    data=data,
                    region_code=region_code or "",
                )
                for subject_id, (_raw_id, data, region_code) in zip(chunk_ids, chunk, strict=True)
            ]
            insert_many(AuditEvent, batch)
            events.extend(batch)
    return events


def history(subject: models.Model | tuple[str, Any]) -> models.QuerySet[AuditEvent]:
    """The subject's events, oldest first."""
    subject_type, subject_id = subject_key(subject)
    return AuditEvent.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("seq")


# --- checkpoints ------------------------------------------------------------------------------------


def merkle_root(leaf_hashes: list[str]) -> str:
    """SM3 Merkle tree hash of hex event hashes (RFC 6962 shape: 0x00 leaf and 0x01 node prefixes,
    an odd node is carried up unchanged). The root of no leaves is SM3 of the empty string."""
    if not leaf_hashes:
        return sm3_hex(b"")
    level = [sm3(b"\x00" + bytes.fromhex(h)) for h in leaf_hashes]
    while len(level) > 1:
        paired = [sm3(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def heads_of(events: list[tuple[str, str, int, str]]) -> dict[str, list]:
    """{"type:id": [last seq, its hash]} for (subject_type, subject_id, seq, hash) rows."""
    heads: dict[str, list] = {}
    for subject_type, subject_id, seq, hash_ in events:
        label = subject_label(subject_type, subject_id)
        if label not in heads or heads[label][0] < seq:
            heads[label] = [seq, hash_]
    return heads


def checkpoint_payload(checkpoint: AuditCheckpoint) -> bytes:
    """The bytes that a checkpoint's hash and SM2 signature cover."""
    return canonical(
        {
            "version": 1,
            "created_at": checkpoint.created_at.astimezone(dt.UTC).isoformat(),
            "first_event_id": checkpoint.first_event_id,
            "last_event_id": checkpoint.last_event_id,
            "event_count": checkpoint.event_count,
            "merkle_root": checkpoint.merkle_root,
            "heads_hash": sm3_hex(canonical(checkpoint.heads)),
            "prev_checkpoint_hash": checkpoint.prev_checkpoint_hash,
        }
    )
