"""The audit store: per-subject SM3 hash chains and signed Merkle checkpoints."""

import datetime as dt
import subprocess

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core import audit, keys
from yiwang.core.models import AuditCheckpoint, AuditEvent, SigningKey
from yiwang.core.services import create_checkpoint, seal_pending_events
from yiwang.core.sm import public_key_pem, sm3, sm3_hex
from yiwang.core.tasks import audit_checkpoint
from yiwang.identity.models import Region

CASE = ("cases.case", 17)


@pytest.mark.django_db
def test_record_appends_a_linked_chain_per_subject():
    first = audit.record(CASE, "case.submitted", actor="applicant", data={"due": dt.date(2026, 10, 19)})
    second = audit.record(CASE, "case.accepted", actor="clerk", role="window_clerk", data={"n": 1})
    other = audit.record(("licences.licence", "A1"), "licence.issued")
    assert [e.seq for e in audit.history(CASE)] == [1, 2]
    assert first.prev_hash == audit.GENESIS and second.prev_hash == first.hash
    assert other.seq == 1 and other.prev_hash == audit.GENESIS  # chains are independent
    assert other.actor == "system"
    stored = AuditEvent.objects.get(pk=first.pk)
    assert stored.data == {"due": "2026-10-19"}  # stored as it was hashed
    assert audit.event_hash(stored) == stored.hash
    assert second.actor_role == "window_clerk"


@pytest.mark.django_db
def test_record_takes_actor_user_and_region_of_a_model_subject(django_user_model):
    region = Region.objects.create(code="441600", name="河源市", level=Region.Level.CITY)
    user = django_user_model.objects.create_user("clerk1", password="x-very-long-pass")
    event = audit.record(region, "region.renamed", actor=user, data={"before": "河源", "after": "河源市"})
    assert event.subject_type == "identity.region" and event.subject_id == "441600"
    assert event.actor == "clerk1"
    assert list(audit.history(region)) == [event]


@pytest.mark.django_db(transaction=True)
def test_a_fork_of_a_chain_is_refused():
    event = audit.record(CASE, "case.submitted")
    fork = AuditEvent(
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        seq=1,
        action="case.forged",
        at=event.at,
        prev_hash=audit.GENESIS,
        hash="f" * 64,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1, literally: split at the largest power of two below n."""
    if len(leaves) == 1:
        return sm3(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sm3(b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:]))


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40))
def test_merkle_root_is_the_rfc6962_tree_hash_with_sm3(leaves):
    assert audit.merkle_root([leaf.hex() for leaf in leaves]) == reference_root(leaves).hex()


def test_merkle_root_of_nothing():
    assert audit.merkle_root([]) == sm3_hex(b"")


@pytest.mark.django_db
def test_checkpoint_seals_new_events_signed_and_chained(tmp_path):
    for action in ("a", "b", "c"):
        audit.record(CASE, action)
    audit.record(("licences.licence", "L1"), "issued")
    first = create_checkpoint()
    events = list(AuditEvent.objects.filter(checkpoint=first).order_by("id"))
    assert first.event_count == len(events) == AuditEvent.objects.count()
    assert first.merkle_root == audit.merkle_root([e.hash for e in events])
    assert first.heads["cases.case:17"] == [3, audit.history(CASE).last().hash]
    assert first.prev_checkpoint_hash == ""
    payload = audit.checkpoint_payload(first)
    assert first.hash == sm3_hex(payload)
    assert keys.verify(first.key_id, payload, bytes(first.signature))
    assert first.key_id == keys.active_key("platform").key_id

    # an independent implementation verifies the platform's signature
    key = SigningKey.objects.get(key_id=first.key_id)
    (tmp_path / "pub.pem").write_text(public_key_pem(bytes(key.public_key)))
    (tmp_path / "payload").write_bytes(payload)
    (tmp_path / "sig.der").write_bytes(bytes(first.signature))
    result = subprocess.run(
        ["openssl", "dgst", "-sm3", "-verify", "pub.pem", "-sigopt", "distid:1234567812345678"]
        + ["-signature", "sig.der", "payload"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Verified OK" in result.stdout, result.stderr

    assert create_checkpoint() is None  # nothing new
    audit.record(CASE, "d")
    second = create_checkpoint()
    assert second.prev_checkpoint_hash == first.hash
    assert second.event_count == 1 and second.heads == {"cases.case:17": [4, audit.history(CASE).last().hash]}


@pytest.mark.django_db
def test_an_event_committed_late_with_a_lower_id_is_sealed_next_time():
    early = audit.record(CASE, "a")
    late = audit.record(CASE, "b")
    AuditEvent.objects.filter(pk=late.pk).update(checkpoint=None)
    first = create_checkpoint(max_events=1)  # as if "late" had not committed yet
    assert first.event_count == 1 and first.last_event_id == early.pk
    second = create_checkpoint()
    assert second.first_event_id == late.pk


@pytest.mark.django_db
def test_large_backlogs_are_sealed_in_several_checkpoints():
    keys.active_key("platform")  # its creation is the first event
    for i in range(4):
        audit.record(("cases.case", i), "x")
    sealed = seal_pending_events(batch=2)
    assert [cp.event_count for cp in sealed] == [2, 2, 1]
    assert not AuditEvent.objects.filter(checkpoint__isnull=True).exists()


@pytest.mark.django_db
def test_periodic_task_runs_every_minute_and_seals():
    schedule = audit_checkpoint.task_class()
    assert all(schedule.validate_datetime(dt.datetime(2026, 11, 20, 10, m)) for m in range(60))
    audit.record(CASE, "a")
    assert audit_checkpoint.call_local() >= 1
    assert AuditCheckpoint.objects.count() == 1
    assert audit_checkpoint.call_local() == 0
