"""Model fields for sensitive personal data: encrypted at rest with SM4 (PIPL; DESIGN.md)."""

from __future__ import annotations

import base64

from django.db import models

from .sm import sm4_decrypt, sm4_encrypt


class EncryptedTextField(models.TextField):
    """Stores base64(SM4-CBC + SM3-HMAC) of the text; reads back the clear text.

    Equality lookups are impossible on ciphertext: pair the field with a ``blind_index`` column.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return sm4_decrypt(base64.b64decode(value)).decode()

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return base64.b64encode(sm4_encrypt(str(value).encode())).decode()


# reasons, comments and other free text kept in a TextField: a page of text, never megabytes
FREE_TEXT_MAX_LENGTH = 2000


def max_length(model: type[models.Model], name: str) -> int:
    """How long an input for ``model.name`` may be: its max_length, FREE_TEXT_MAX_LENGTH for a TextField.
    Input serializers and forms take their bounds from here so that a value never outgrows its column."""
    return model._meta.get_field(name).max_length or FREE_TEXT_MAX_LENGTH


# an ID number or credit code as a person types it (spaces, full-width digits) before it is normalised
TYPED_CODE_MAX_LENGTH = 40
