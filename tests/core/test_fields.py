"""SM4-encrypted model fields: clear text in Python, ciphertext in the database row."""

import base64
import datetime as dt

import pytest
from django.db import connection

from yiwang.core.ids import make_citizen_id
from yiwang.core.sm import blind_index, sm4_decrypt
from yiwang.identity.models import NaturalPerson

pytestmark = pytest.mark.django_db


def raw_row(person: NaturalPerson) -> tuple:
    table = NaturalPerson._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number, id_digest, id_last4 FROM {table} WHERE id = %s", [person.pk])
        return cursor.fetchone()


def test_id_number_round_trips_and_is_encrypted_in_the_row():
    number = make_citizen_id("441602", dt.date(1990, 5, 17), 123)
    person = NaturalPerson.objects.create(name="张三", id_number=" " + number.lower() + " ")
    loaded = NaturalPerson.objects.get(pk=person.pk)
    assert loaded.id_number == number

    stored, digest, last4 = raw_row(person)
    assert number not in stored
    assert number[:14] not in stored and number[6:14] not in stored  # not even the birth date
    assert sm4_decrypt(base64.b64decode(stored)) == number.encode()
    assert digest == blind_index(number)
    assert last4 == number[-4:]


def test_same_number_encrypts_differently_but_finds_by_blind_index():
    number = make_citizen_id("441625", dt.date(1975, 1, 2), 55)
    person = NaturalPerson.objects.create(name="李四", id_number=number)
    first = raw_row(person)[0]
    person.save()
    assert raw_row(person)[0] != first  # a fresh IV on every write
    assert NaturalPerson.objects.get(id_digest=blind_index(number)).pk == person.pk
    with pytest.raises(TypeError, match="blind index"):  # equality on ciphertext would never match: refused
        NaturalPerson.objects.filter(id_number=number).exists()
