"""Model fields for sensitive personal data: encrypted at rest with SM4 (PIPL; DESIGN.md)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import models
from django.db.models.lookups import Exact

from .sm import blind_index, sm4_decrypt, sm4_encrypt


def encrypt_text(value: str) -> str:
    """The stored form of a clear text: base64(SM4-CBC + SM3-HMAC) under the current key; "" stays ""."""
    if value is None or value == "":
        return value
    return base64.b64encode(sm4_encrypt(str(value).encode())).decode()


def decrypt_text(stored: str) -> str:
    """The clear text of a stored value (under the current or a previous key, see ``sm.sm4_decrypt``)."""
    if stored is None or stored == "":
        return stored
    return sm4_decrypt(base64.b64decode(stored)).decode()


class _EmptyOnlyExact(Exact):
    """``field=""`` works (the empty value is stored as is); any other value would be compared with a
    ciphertext under a fresh random IV and silently match nothing, so it is refused."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None) and not hasattr(self.rhs, "resolve_expression"):
            raise TypeError(f"{self.lhs.target.name} is encrypted: look it up by its blind index")
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Stores base64(SM4-CBC + SM3-HMAC) of the text; reads back the clear text.

    Equality lookups are impossible on ciphertext: pair the field with a ``blind_index`` column.
    Every such column is re-encrypted by ``yiwang rotate-keys`` (found by its field class).
    """

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def from_db_value(self, value, expression, connection):
        return decrypt_text(value)

    def get_prep_value(self, value):
        return encrypt_text(super().get_prep_value(value))


# reasons, comments and other free text kept in a TextField: a page of text, never megabytes
FREE_TEXT_MAX_LENGTH = 2000


def max_length(model: type[models.Model], name: str) -> int:
    """How long an input for ``model.name`` may be: its max_length, FREE_TEXT_MAX_LENGTH for a TextField.
    Input serializers and forms take their bounds from here so that a value never outgrows its column."""
    return model._meta.get_field(name).max_length or FREE_TEXT_MAX_LENGTH


# an ID number or credit code as a person types it (spaces, full-width digits) before it is normalised
TYPED_CODE_MAX_LENGTH = 40


CHUNK = 2000  # rows per query and per bulk_update when a whole table is (re-)encrypted


def pk_page(queryset: models.QuerySet, columns: Iterable[str], after: Any, size: int = CHUNK) -> list[tuple]:
    """The next ``size`` rows ``(pk, *columns)`` after pk ``after`` (None: from the start), in pk order:
    keyset paging, so each page is one index-backed query at any depth of the table."""
    page = queryset.order_by("pk")
    if after is not None:
        page = page.filter(pk__gt=after)
    return list(page.values_list("pk", *columns)[:size])


def pk_chunks(queryset: models.QuerySet, *columns: str, size: int = CHUNK) -> Iterator[list[tuple]]:
    """Every row ``(pk, *columns)`` of ``queryset``, one query per ``size`` rows (``pk_page``)."""
    last = None
    while rows := pk_page(queryset, columns, last, size):
        yield rows
        last = rows[-1][0]


def convert_columns(
    model: type[models.Model],
    fields: list[str],
    convert: Callable[[str], str],
    *,
    digests: dict[str, tuple[str, str]] | None = None,
    size: int = CHUNK,
) -> None:
    """For migrations: rewrite ``fields`` of every row with ``convert`` (``encrypt_text`` or
    ``decrypt_text``), in chunks by bulk_update. ``model`` is the historical model, in which the
    columns are plain text fields at that step. ``digests`` maps a field to (digest field, blind-index
    purpose): that column is filled from the clear value (only when encrypting)."""
    digests = digests or {}
    filled = models.Q()
    for name in fields:  # most rows have no value at all (no delivery address): not rewritten
        filled |= ~models.Q(**{name: ""})
    for rows in pk_chunks(model._default_manager.filter(filled), *fields, size=size):
        objs = []
        for pk, *values in rows:
            obj = model(pk=pk)
            for name, value in zip(fields, values, strict=True):
                setattr(obj, name, convert(value) if value else value)
                if name in digests and convert is encrypt_text:
                    digest_field, purpose = digests[name]
                    setattr(obj, digest_field, blind_index(value, purpose=purpose) if value else "")
            objs.append(obj)
        written = [*fields, *(d for d, _p in digests.values())] if convert is encrypt_text else fields
        model._default_manager.bulk_update(objs, written)
