"""SM2 signing keys of the platform and of departments (电子印章).

Private keys are SM4-encrypted under the key-encryption key (settings.YIWANG_KEK) and decrypted only
in memory, to sign. Rotation keeps old keys (inactive, with ``valid_until``) so that what they signed
still verifies.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from . import audit
from .models import SigningKey
from .sm import key_id, sm2_generate_keypair, sm2_sign, sm2_verify, sm4_decrypt, sm4_encrypt

PLATFORM = "platform"


def create_key(owner: str, *, actor=None) -> SigningKey:
    """Generate a new active key for ``owner`` and retire its previous active key (kept for verifying)."""
    public, private = sm2_generate_keypair()
    now = timezone.now()
    with transaction.atomic():
        retired = list(
            SigningKey.objects.select_for_update().filter(owner=owner, active=True).values_list("key_id", flat=True)
        )
        SigningKey.objects.filter(owner=owner, active=True).update(active=False, valid_until=now)
        key = SigningKey.objects.create(
            owner=owner,
            key_id=key_id(public),
            public_key=public,
            private_key_enc=sm4_encrypt(private),
            valid_from=now,
            active=True,
        )
        audit.record(
            ("core.signingkey", owner),
            "key_rotated" if retired else "key_created",
            actor=actor,
            data={"key_id": key.key_id, "retired": retired},
        )
        return key


rotate = create_key


def active_key(owner: str) -> SigningKey:
    """The owner's active key, created on first use."""
    key = SigningKey.objects.filter(owner=owner, active=True).order_by("-valid_from").first()
    return key or create_key(owner)


def sign(owner: str, message: bytes) -> tuple[str, bytes]:
    """Sign with the owner's active key. Returns (key_id, DER signature)."""
    key = active_key(owner)
    return key.key_id, sign_with(key, message)


def sign_with(key: SigningKey, message: bytes) -> bytes:
    private = sm4_decrypt(bytes(key.private_key_enc))
    return sm2_sign(private, bytes(key.public_key), message)


def verify(key_id_: str, message: bytes, signature: bytes) -> bool:
    key = SigningKey.objects.filter(key_id=key_id_).first()
    return bool(key) and sm2_verify(bytes(key.public_key), message, signature)
