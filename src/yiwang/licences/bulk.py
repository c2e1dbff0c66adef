"""Set-based writes for 存量入库: many rows of one model in one statement.

On PostgreSQL the rows go through ``COPY … FROM STDIN`` (psycopg 3 ``cursor.copy``), their ids taken
from the table's sequence beforehand so that the rows that point at them (audit events, import rows)
can be written in the same way; on SQLite (and any other database) through ``bulk_create``, which
reads the ids back. Either way the values are what Django itself would write: each field's
``pre_save`` and ``get_db_prep_save`` (SM4 encryption, JSON, ``auto_now_add``), so a row written
here reads back exactly like one saved by the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def uses_copy() -> bool:
    return connection.vendor == "postgresql"


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` fresh ids from the table's id sequence (identity column), in one query."""
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count])
        return [row[0] for row in cursor.fetchall()]


def insert_many(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert ``objs`` (unsaved, without ids) in one statement and set their ids. Must run inside the
    caller's transaction; the caller has checked the rows (a constraint violation aborts it)."""
    if not objs:
        return
    if not uses_copy():
        model.objects.bulk_create(objs)
        return
    for obj, pk in zip(objs, _reserve_ids(model, len(objs)), strict=True):
        obj.pk = pk
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
