"""Use cases of the platform core: publishing a year's official holiday schedule, sealing the audit
events into signed checkpoints, re-encrypting the stored personal data and keys under a new KEK."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps as django_apps
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, keys
from .calendar import ScheduleDay, invalidate, schedule_published
from .errors import InvalidInput
from .fields import CHUNK, EncryptedTextField, decrypt_text, pk_page
from .models import AuditCheckpoint, AuditEvent, CalendarDay, CalendarYear, SigningKey
from .sm import index_key, is_under_current_key, sm3_hex, sm4_decrypt, sm4_encrypt

MIN_YEAR, MAX_YEAR = 2000, 2100
NAME_MAX = CalendarDay._meta.get_field("name").max_length


def _as_day(item: ScheduleDay | tuple) -> ScheduleDay:
    return item if isinstance(item, ScheduleDay) else ScheduleDay(*item)


def publish_schedule(year: int, days: Iterable[ScheduleDay | tuple], source: str, *, actor=None) -> CalendarYear:
    """Enter (or replace) the official schedule of ``year``: its holidays and make-up workdays.

    The year and all its days are written in one transaction; the previous days of that year are
    replaced. Once committed, ``schedule_published`` is sent with ``year=`` so that due dates that
    were computed provisionally get recomputed. Raises InvalidInput (nothing written) when a day lies
    outside the year, appears twice or has too long a name.
    """
    days = [_as_day(d) for d in days]
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(
            _("年份 %(y)s 不在 %(a)d–%(b)d 之间。") % {"y": year, "a": MIN_YEAR, "b": MAX_YEAR}, field="year"
        )
    errors: list[str] = []
    seen: set[dt.date] = set()
    for day in days:
        if day.date.year != year:
            errors.append(_("%(d)s 不在 %(y)d 年内。") % {"d": day.date.isoformat(), "y": year})
        if day.date in seen:
            errors.append(_("%(d)s 重复出现。") % {"d": day.date.isoformat()})
        seen.add(day.date)
        if len(day.name) > NAME_MAX:
            errors.append(_("%(d)s 的名称超过 %(n)d 个字。") % {"d": day.date.isoformat(), "n": NAME_MAX})
    if errors:
        raise InvalidInput(
            _("%(y)d 年节假日安排有 %(n)d 处错误，未保存。") % {"y": year, "n": len(errors)},
            field="days",
            errors=errors,
        )

    with transaction.atomic():
        previous = {
            d.date: (d.is_workday, d.name) for d in CalendarDay.objects.select_for_update().filter(year_id=year)
        }
        row, created = CalendarYear.objects.update_or_create(year=year, defaults={"source": source})
        CalendarDay.objects.filter(year=row).delete()
        CalendarDay.objects.bulk_create(
            CalendarDay(date=d.date, year=row, is_workday=d.is_workday, name=d.name) for d in days
        )
        current = {d.date: (d.is_workday, d.name) for d in days}
        changed = sorted(d.isoformat() for d in set(previous) | set(current) if previous.get(d) != current.get(d))
        audit.record(
            ("core.calendaryear", year),
            "schedule_published" if created else "schedule_changed",
            actor=actor,
            data={
                "source": source,
                "holidays": sum(1 for d in days if not d.is_workday),
                "workdays": sum(1 for d in days if d.is_workday),
                "changed_dates": changed,
            },
        )
        transaction.on_commit(invalidate)
        transaction.on_commit(lambda: schedule_published.send(sender=CalendarYear, year=year))
    return row


# --- audit checkpoints ------------------------------------------------------------------------------

CHECKPOINT_MAX_EVENTS = 50_000
_BATCH = 1_000


def create_checkpoint(*, max_events: int = CHECKPOINT_MAX_EVENTS) -> AuditCheckpoint | None:
    """Seal the audit events that no checkpoint holds yet (at most ``max_events``, oldest first) into
    one checkpoint: the SM3 Merkle root of their hashes and each subject's last event, signed with the
    platform's SM2 key and chained to the previous checkpoint. Returns None when there is nothing new.

    Events are selected by "not sealed yet" rather than by id range, so that an event whose
    transaction commits late (with a lower id) is sealed by the next checkpoint instead of being
    missed. Concurrent calls cannot fork the chain: ``prev_checkpoint_hash`` is unique, and the loser
    returns None.
    """
    keys.active_key(keys.PLATFORM)  # a first key is created (and audited) before the events are read
    previous = None
    try:
        with transaction.atomic():
            previous = AuditCheckpoint.objects.select_for_update().order_by("-id").first()
            rows = list(
                AuditEvent.objects.filter(checkpoint__isnull=True)
                .order_by("id")
                .values_list("id", "subject_type", "subject_id", "seq", "hash")[:max_events]
            )
            if not rows:
                return None
            checkpoint = AuditCheckpoint(
                created_at=timezone.now(),
                first_event_id=rows[0][0],
                last_event_id=rows[-1][0],
                event_count=len(rows),
                merkle_root=audit.merkle_root([r[4] for r in rows]),
                heads=audit.heads_of([r[1:] for r in rows]),
                prev_checkpoint_hash=previous.hash if previous else "",
            )
            payload = audit.checkpoint_payload(checkpoint)
            checkpoint.hash = sm3_hex(payload)
            checkpoint.key_id, checkpoint.signature = keys.sign(keys.PLATFORM, payload)
            checkpoint.save(force_insert=True)
            ids = [r[0] for r in rows]
            for start in range(0, len(ids), _BATCH):
                AuditEvent.objects.filter(id__in=ids[start : start + _BATCH]).update(checkpoint=checkpoint)
    except IntegrityError:
        if AuditCheckpoint.objects.filter(prev_checkpoint_hash=previous.hash if previous else "").exists():
            return None  # another process sealed these events a moment ago
        raise
    return checkpoint


def seal_pending_events(*, batch: int = CHECKPOINT_MAX_EVENTS) -> list[AuditCheckpoint]:
    """Create checkpoints until every audit event is sealed (several when there is a large backlog)."""
    sealed = []
    while checkpoint := create_checkpoint(max_events=batch):
        sealed.append(checkpoint)
        if checkpoint.event_count < batch:
            break
    return sealed


# --- KEK rotation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationStep:
    """Where a rotation is: ``seen`` of ``total`` rows of ``table`` read, ``rewritten`` of them re-encrypted."""

    table: str
    seen: int
    total: int
    rewritten: int


def encrypted_columns() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with SM4-encrypted columns and their names, found by field class (core names no app)."""
    found = []
    for model in django_apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names and not model._meta.proxy:
            found.append((model, names))
    return found


def _stale(stored: str) -> bool:
    return bool(stored) and not is_under_current_key(base64.b64decode(stored))


def rotate_encryption_key(*, chunk: int = CHUNK, progress: Callable[[RotationStep], None] | None = None) -> int:
    """Re-encrypt every encrypted column and every private signing key under the current KEK
    (``YIWANG_KEK``), reading what is still under a key of ``YIWANG_KEK_PREVIOUS``. Returns the rows
    rewritten.

    Chunks of ``chunk`` rows by primary key, each in its own transaction with its rows locked (a
    concurrent change of an address is neither lost nor overwritten), one bulk_update each. A value
    already under the current key is left alone, so that a rotation stopped half-way is resumed by
    running it again. The blind indexes are keyed apart (``YIWANG_INDEX_KEY``) and do not change.
    """
    index_key()  # refuses a rotation that would change every blind index
    rewritten_total = 0
    for model, names in encrypted_columns():
        table = model._meta.label
        manager = model._default_manager
        # the stored text itself: a Cast has no decrypting converter
        raw = {f"raw_{n}": Cast(n, output_field=models.TextField()) for n in names}
        total, seen, rewritten, last = manager.count(), 0, 0, None
        while True:
            with transaction.atomic():
                rows = pk_page(manager.select_for_update().annotate(**raw), raw, last, chunk)
                if not rows:
                    break
                stale = []
                for pk, *stored in rows:
                    if any(_stale(v) for v in stored):
                        row = model(pk=pk)
                        for name, value in zip(names, stored, strict=True):
                            setattr(row, name, decrypt_text(value))
                        stale.append(row)
                manager.bulk_update(stale, names)
            last, seen, rewritten = rows[-1][0], seen + len(rows), rewritten + len(stale)
            if progress:
                progress(RotationStep(table, seen, total, rewritten))
        rewritten_total += rewritten
    with transaction.atomic():
        stale_keys = [
            k for k in SigningKey.objects.select_for_update() if not is_under_current_key(bytes(k.private_key_enc))
        ]
        for key in stale_keys:
            key.private_key_enc = sm4_encrypt(sm4_decrypt(bytes(key.private_key_enc)))
        SigningKey.objects.bulk_update(stale_keys, ["private_key_enc"])
    if progress:
        total = SigningKey.objects.count()
        progress(RotationStep(SigningKey._meta.label, total, total, len(stale_keys)))
    return rewritten_total + len(stale_keys)
