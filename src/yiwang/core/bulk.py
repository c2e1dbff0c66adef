"""Set-based writes: many rows of one model in one statement (存量入库, the sweep's audit events).

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

# Fields whose database value is the attribute itself when it has the field's own Python type (or is
# None): their preparation is only a type conversion, skipped for such values (a third of the
# import's and the sweep's COPY time). Exact classes: a subclass (an encrypted field) may prepare its
# value differently.
_TEXT, _INT, _BOOL = frozenset({str, type(None)}), frozenset({int, type(None)}), frozenset({bool, type(None)})
PLAIN_FIELDS: dict[type, frozenset] = {
    models.CharField: _TEXT, models.TextField: _TEXT, models.AutoField: _INT, models.BigAutoField: _INT,
    models.IntegerField: _INT, models.BigIntegerField: _INT, models.SmallIntegerField: _INT,
    models.PositiveIntegerField: _INT, models.PositiveSmallIntegerField: _INT,
    models.BooleanField: _BOOL,
}  # fmt: skip
_NONE: frozenset = frozenset()


def _plain_types(field: models.Field) -> frozenset:
    """The value types written as they are for ``field``; a foreign key follows its target's type."""
    if field.is_relation:
        return PLAIN_FIELDS.get(type(field.target_field), _NONE) if type(field) is models.ForeignKey else _NONE
    return PLAIN_FIELDS.get(type(field), _NONE)


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
    plain = [_plain_types(f) for f in fields]
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row(
                [
                    value
                    if type(value := getattr(obj, f.attname)) in types
                    else f.get_db_prep_save(f.pre_save(obj, True), connection)
                    for f, types in zip(fields, plain, strict=True)
                ]
            )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
