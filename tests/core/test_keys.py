"""Signing keys: rotation keeps old signatures verifiable; private keys never show."""

import base64

import pytest

from yiwang.core import audit, keys
from yiwang.core.models import SigningKey
from yiwang.core.sm import sm4_decrypt

pytestmark = pytest.mark.django_db


def private_forms(key: SigningKey) -> list[str]:
    private = sm4_decrypt(bytes(key.private_key_enc))
    return [private.hex(), private.hex().upper(), base64.b64encode(private).decode()]


def test_active_key_is_created_on_first_use_and_reused():
    first = keys.active_key("platform")
    assert first.active and first.valid_until is None
    assert keys.active_key("platform").pk == first.pk
    assert [e.action for e in audit.history(("core.signingkey", "platform"))] == ["key_created"]


def test_rotation_keeps_old_signatures_verifiable():
    key_id_1, sig_1 = keys.sign("platform", b"checkpoint 1")
    old = SigningKey.objects.get(key_id=key_id_1)

    new = keys.rotate("platform", actor="admin")
    old.refresh_from_db()
    assert not old.active and old.valid_until is not None
    assert new.active and new.key_id != key_id_1

    key_id_2, sig_2 = keys.sign("platform", b"checkpoint 2")
    assert key_id_2 == new.key_id
    assert keys.verify(key_id_1, b"checkpoint 1", sig_1)
    assert keys.verify(key_id_2, b"checkpoint 2", sig_2)
    assert not keys.verify(key_id_2, b"checkpoint 1", sig_1)
    assert not keys.verify("0000000000000000", b"checkpoint 1", sig_1)
    assert SigningKey.objects.filter(owner="platform", active=True).count() == 1
    rotated = audit.history(("core.signingkey", "platform")).last()
    assert rotated.action == "key_rotated" and rotated.actor == "admin"
    assert rotated.data == {"key_id": new.key_id, "retired": [key_id_1]}


def test_owners_have_separate_keys():
    a = keys.active_key("platform")
    b = keys.active_key("11441600007196034N")
    assert a.key_id != b.key_id
    key_id, sig = keys.sign("11441600007196034N", b"seal")
    assert key_id == b.key_id and keys.verify(key_id, b"seal", sig)


def test_private_key_is_never_stored_or_shown_in_clear():
    key = keys.active_key("platform")
    stored = bytes(SigningKey.objects.get(pk=key.pk).private_key_enc)
    private = sm4_decrypt(stored)
    assert private not in stored
    for text in (repr(key), str(key)):
        assert all(form not in text for form in private_forms(key))
    assert repr(key) == f"<SigningKey platform {key.key_id}>"


def test_admin_shows_public_key_only(admin_client):
    key = keys.active_key("platform")
    listing = admin_client.get("/admin/core/signingkey/")
    detail = admin_client.get(f"/admin/core/signingkey/{key.pk}/change/")
    assert listing.status_code == 200 and detail.status_code == 200
    page = detail.content.decode()
    assert "-----BEGIN PUBLIC KEY-----" in page
    for form in private_forms(key):
        assert form not in page and form not in listing.content.decode()
    assert base64.b64encode(bytes(key.private_key_enc)).decode() not in page
    assert "private_key" not in page


def test_admin_rotation_action(admin_client):
    old = keys.active_key("platform")
    response = admin_client.post(
        "/admin/core/signingkey/", {"action": "rotate_keys", "_selected_action": [old.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "已为 1 个持有者生成新密钥。" in response.content.decode()
    assert keys.active_key("platform").key_id != old.key_id
