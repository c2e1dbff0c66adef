"""Phone numbers and addresses are SM4-encrypted at rest; phones are found by their blind index."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from yiwang.core.ids import make_citizen_id, make_uscc
from yiwang.core.sm import blind_index
from yiwang.identity import selectors, services
from yiwang.identity.models import LegalPerson, NaturalPerson, User

PHONE = "13712345678"
ADDRESS = "广东省河源市源城区文明路88号3栋201"
PASSWORD = "Yiwang-test-2026"


def raw(model, pk, *columns: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {model._meta.db_table} WHERE {model._meta.pk.column} = %s", [pk]
        )
        return cursor.fetchone()


@pytest.fixture
def citizen(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    number = make_citizen_id("441602", dt.date(1991, 3, 4), 77)
    user = services.register_citizen(name="陈明", id_number=number, phone=PHONE, password=PASSWORD)
    services.update_person(user.person, address=ADDRESS)
    return user


def test_the_rows_hold_no_clear_phone_or_address(citizen):
    user_row = raw(User, citizen.pk, "phone", "phone_digest")
    person_row = raw(NaturalPerson, citizen.person.pk, "phone", "address")
    for stored in (user_row[0], *person_row):
        assert stored and PHONE not in stored and "文明路" not in stored and "1371234" not in stored
    assert user_row[1] == blind_index(PHONE, purpose="phone")
    org = LegalPerson.objects.create(name="河源市某某有限公司", uscc=make_uscc("91441600", "MA4ABCD2"), address=ADDRESS)
    assert "文明路" not in raw(LegalPerson, org.pk, "address")[0]
    # and they read back in clear
    assert NaturalPerson.objects.get(pk=citizen.person.pk).address == ADDRESS
    assert User.objects.get(pk=citizen.pk).phone == PHONE


def test_login_by_phone_still_works_and_is_looked_up_by_the_blind_index(citizen, client):
    with CaptureQueriesContext(connection) as queries:
        assert selectors.citizen_account("137 1234 5678") == citizen
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "phone_digest" in sql and PHONE not in sql
    response = client.post("/login/", {"username": PHONE, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/my/cases/").status_code == 200


def test_a_second_registration_with_the_same_phone_is_refused(citizen):
    from yiwang.core.errors import Conflict

    other = make_citizen_id("441602", dt.date(1992, 3, 4), 78)
    with pytest.raises(Conflict, match="手机号码已注册"):
        services.register_citizen(name="陈亮", id_number=other, phone=PHONE, password=PASSWORD)


def test_equality_on_an_encrypted_column_is_refused_rather_than_silently_empty(db):
    with pytest.raises(TypeError, match="blind index"):
        User.objects.filter(phone=PHONE).exists()
    assert User.objects.filter(phone="").count() == User.objects.count()  # empty stays queryable


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_in_chunks():
    executor = MigrationExecutor(connection)
    before, after = [("identity", "0004_password_reset_code")], [("identity", "0005_encrypt_phones_addresses")]
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        OldUser, OldPerson = old.get_model("identity", "User"), old.get_model("identity", "NaturalPerson")
        users = OldUser.objects.bulk_create(
            [OldUser(username=f"old{i}", phone=f"1380000{i:04d}", password="!") for i in range(2500)]
        )
        OldPerson.objects.create(
            name="老用户", id_number="x", id_digest="d", id_last4="0000", phone=PHONE, address=ADDRESS
        )
        executor = MigrationExecutor(connection)
        with CaptureQueriesContext(connection) as queries:
            executor.migrate(after)
        updates = [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "identity_user"')]
        assert 1 < len(updates) <= 25  # 2 500 rows in batched statements (SQLite binds fewer a query), never one a row
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
    stored, digest = raw(User, users[1234].pk, "phone", "phone_digest")
    assert "13800001234" not in stored and digest == blind_index("13800001234", purpose="phone")
    assert User.objects.get(pk=users[1234].pk).phone == "13800001234"
    assert selectors.citizen_account("13800001234").pk == users[1234].pk
    person = NaturalPerson.objects.get(name="老用户")
    assert (person.phone, person.address) == (PHONE, ADDRESS)
    assert "文明路" not in raw(NaturalPerson, person.pk, "address")[0]


def test_a_notification_keeps_its_recipient_encrypted_and_the_log_shows_it_masked(db, caplog):
    from yiwang.core.models import Notification
    from yiwang.core.notify import ConsoleNotifier, notify

    note = notify(None, "通知", "正文", recipient=PHONE)
    assert PHONE not in raw(Notification, note.pk, "recipient")[0]
    assert Notification.objects.get(pk=note.pk).recipient == PHONE
    with caplog.at_level("INFO", logger="yiwang.notify"):
        ConsoleNotifier().deliver(note)
    assert "137****5678" in caplog.text and PHONE not in caplog.text
