"""`yiwang rotate-keys`: everything encrypted under the old KEK is re-encrypted under the new one, in
chunks, resumably; afterwards the new key alone reads it and the blind indexes still find it."""

from __future__ import annotations

import base64
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from yiwang.core import keys
from yiwang.core.ids import make_citizen_id
from yiwang.core.sm import sm4_decrypt
from yiwang.identity import selectors, services
from yiwang.identity.models import NaturalPerson, User

pytestmark = pytest.mark.django_db

OLD = "00112233445566778899aabbccddeeff"
NEW = "ffeeddccbbaa99887766554433221100"
PHONES = [f"1370000{i:04d}" for i in range(5)]


def stored(model, pk, column: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return base64.b64decode(cursor.fetchone()[0])


def rotate(**options) -> str:
    out = io.StringIO()
    call_command("rotate_keys", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def old_world(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(YIWANG_KEK=OLD):
        users = [
            services.register_citizen(
                name="居民" + "甲乙丙丁戊"[i],  # a name has no digits
                id_number=make_citizen_id("441602", dt.date(1990, 1, 1 + i), i),
                phone=phone,
                password="Yiwang-test-2026",
            )
            for i, phone in enumerate(PHONES)
        ]
        services.update_person(users[0].person, address="广东省河源市源城区文明路1号")
        key = keys.active_key("platform")
    return users, key


def test_rotation_re_encrypts_every_column_under_the_new_key_only(old_world):
    users, key = old_world
    with override_settings(YIWANG_KEK=NEW, YIWANG_KEK_PREVIOUS=OLD, YIWANG_INDEX_KEY=OLD):
        output = rotate(chunk=2)
    assert "identity.NaturalPerson：已处理 2 / 5 行，重新加密 2 行" in output  # a progress line per chunk
    assert "identity.NaturalPerson：已处理 5 / 5 行，重新加密 5 行" in output
    assert "core.SigningKey" in output

    person = users[0].person
    for model, pk, column in [
        (User, users[0].pk, "phone"),
        (NaturalPerson, person.pk, "address"),
        (NaturalPerson, person.pk, "id_number"),
    ]:
        token = stored(model, pk, column)
        with pytest.raises(ValueError):
            sm4_decrypt(token, key=bytes.fromhex(OLD))
        assert sm4_decrypt(token, key=bytes.fromhex(NEW))

    # the old key gone: everything reads, the blind indexes still find people, the platform still signs
    with override_settings(YIWANG_KEK=NEW, YIWANG_INDEX_KEY=OLD):
        assert NaturalPerson.objects.get(pk=person.pk).address == "广东省河源市源城区文明路1号"
        assert selectors.citizen_account(PHONES[3]) == users[3]
        assert selectors.citizen_account(users[4].person.id_number) == users[4]
        key_id, signature = keys.sign("platform", b"message")
        assert key_id == key.key_id and keys.verify(key_id, b"message", signature)


def test_a_second_run_resumes_and_rewrites_only_what_is_left(old_world):
    users, _key = old_world
    with override_settings(YIWANG_KEK=NEW, YIWANG_KEK_PREVIOUS=OLD, YIWANG_INDEX_KEY=OLD):
        # as if stopped after one row: that row is under the new key, the others not yet
        person = NaturalPerson.objects.get(pk=users[0].person.pk)
        person.save()
        output = rotate()
        assert "identity.NaturalPerson：已处理 5 / 5 行，重新加密 4 行" in output
        again = rotate()
    assert "重新加密 0 行" in again and "共重新加密 0 行" in again


def test_rotation_refuses_to_change_the_blind_indexes(old_world):
    with (
        override_settings(YIWANG_KEK=NEW, YIWANG_KEK_PREVIOUS=OLD),
        pytest.raises(CommandError, match="YIWANG_INDEX_KEY"),
    ):
        rotate()
